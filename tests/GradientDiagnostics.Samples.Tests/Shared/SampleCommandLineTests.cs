using System.Text.RegularExpressions;

namespace GradientDiagnostics.Samples.Tests.Shared;

/// <summary>
/// Every sample parses its arguments with System.CommandLine (samples/Shared/SampleCommandLine.cs): <c>--help</c> prints
/// usage and exits, and a bad argument is named in one clear error with exit code 1, before any training and without a
/// stack trace. The samples run as processes, from their build output, as a user runs them.
/// </summary>
[Collection(SampleOutputCollection.Name)]
public sealed partial class SampleCommandLineTests
{
    // Starting a sample takes about a second on a quiet machine; a sample that trains instead takes minutes.
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    /// <summary>Every sample folder with a project: a new sample is covered without an edit here.</summary>
    public static TheoryData<string> Samples() => [.. SampleBuildOutput.Folders()];

    /// <summary>Each sample with an unknown option, and with a word where a number or nothing is expected.</summary>
    public static TheoryData<string, string> BadArguments()
    {
        var data = new TheoryData<string, string>();
        foreach (string sample in SampleBuildOutput.Folders())
        {
            data.Add(sample, "--no-such-option");
            data.Add(sample, "not-a-number");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task Help_prints_usage_and_exits_without_training(string sample)
    {
        (int exitCode, string stdout, string stderr) = await SampleBuildOutput.RunAsync(sample, Limit, "--help");

        Assert.True(exitCode == 0, stdout + stderr);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        Assert.Contains("-?, -h, --help", stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stderr.Trim());
    }

    [Theory]
    [MemberData(nameof(BadArguments))]
    public async Task Bad_argument_is_named_in_an_error_with_exit_code_1_and_no_stack_trace(string sample, string argument)
    {
        (int exitCode, string stdout, string stderr) = await SampleBuildOutput.RunAsync(sample, Limit, argument);

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{stdout}{stderr}");
        Assert.Contains($"'{argument}'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotMatch(StackFrame(), stdout + stderr);
    }

    [Theory]
    [InlineData("Telemetry", "--prometheus", "70000")]
    [InlineData("Telemetry", "--step-delay", "-1")]
    public async Task Telemetry_option_out_of_range_is_refused_at_parse_time(string sample, string option, string value)
    {
        (int exitCode, string stdout, string stderr) = await SampleBuildOutput.RunAsync(sample, Limit, option, value);

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{stdout}{stderr}");
        Assert.Contains($"{option} must be", stderr, StringComparison.Ordinal);
        Assert.Contains($"not {value}", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GradientFlowDemo")]
    [InlineData("ExplodingRnn")]
    [InlineData("MixedPrecision")]
    [InlineData("Telemetry")]
    public async Task Zero_steps_is_refused_at_parse_time(string sample)
    {
        (int exitCode, string stdout, string stderr) = await SampleBuildOutput.RunAsync(sample, Limit, "0");

        Assert.True(exitCode == 1, $"exit code {exitCode}:\n{stdout}{stderr}");
        Assert.Contains("steps must be 1 or more", stderr, StringComparison.Ordinal);
    }

    // A .NET stack frame line: "   at Namespace.Type.Method(...)".
    [GeneratedRegex(@"^\s+at \S+\(", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}
