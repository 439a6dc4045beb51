using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace GradientDiagnostics.Samples;

/// <summary>
/// The command-line pieces the samples share (compiled into each sample by samples/Directory.Build.targets).
/// Range checks are parser validators, so a bad value is a parse error: System.CommandLine prints it with the other
/// parse errors and the sample exits with 1 before any training starts, never with a stack trace.
/// </summary>
internal static class SampleCommandLine
{
    /// <summary>The optional positional argument of the samples that take one: training steps per run (at least 1).</summary>
    public static Argument<int> Steps(int defaultValue, string description = "Training steps per run.") =>
        new Argument<int>("steps") { Description = description, DefaultValueFactory = _ => defaultValue }.AtLeast(1);

    /// <summary>Rejects a value below <paramref name="minimum"/> at parse time.</summary>
    public static Argument<int> AtLeast(this Argument<int> argument, int minimum)
    {
        argument.Validators.Add(result => Check(result, argument.Name, minimum, int.MaxValue));
        return argument;
    }

    /// <summary>Rejects a value below <paramref name="minimum"/> at parse time.</summary>
    public static Option<int> AtLeast(this Option<int> option, int minimum)
    {
        option.Validators.Add(result => Check(result, option.Name, minimum, int.MaxValue));
        return option;
    }

    /// <summary>Rejects a value outside [<paramref name="minimum"/>, <paramref name="maximum"/>] at parse time.</summary>
    public static Option<int?> InRange(this Option<int?> option, int minimum, int maximum)
    {
        option.Validators.Add(result => Check(result, option.Name, minimum, maximum));
        return option;
    }

    // Reads the token itself: a validator runs before the conversion, and asking the result for its value throws
    // when the token is not a number (that case is left to the parser's own "Cannot parse argument" error). No token:
    // the default value, which is in range.
    private static void Check(SymbolResult result, string name, int minimum, int maximum)
    {
        if (result.Tokens.Count == 1 && int.TryParse(result.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            && (value < minimum || value > maximum))
        {
            result.AddError(maximum == int.MaxValue
                ? $"{name} must be {minimum} or more, not {value}."
                : $"{name} must be between {minimum} and {maximum}, not {value}.");
        }
    }
}
