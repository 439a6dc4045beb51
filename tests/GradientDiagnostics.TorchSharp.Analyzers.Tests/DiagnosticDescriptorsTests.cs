using System.Text.RegularExpressions;
using GradientDiagnostics.Testing;
using Microsoft.CodeAnalysis;

namespace GradientDiagnostics.TorchSharp.Analyzers.Tests;

/// <summary>GD0001's descriptor agrees with its documentation and its release-tracking entry.</summary>
public sealed partial class DiagnosticDescriptorsTests
{
    private static readonly DiagnosticDescriptor Rule = DiagnosticDescriptors.ChildModuleForwardCall;

    [Fact]
    public void GD0001_is_an_enabled_warning_whose_message_names_hooks_probes_and_the_fix()
    {
        Assert.Equal("GD0001", Rule.Id);
        Assert.Equal(DiagnosticSeverity.Warning, Rule.DefaultSeverity);
        Assert.True(Rule.IsEnabledByDefault);

        string message = string.Format(System.Globalization.CultureInfo.InvariantCulture, Rule.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), "encoder");

        Assert.Contains("'encoder.forward(...)'", message, StringComparison.Ordinal);
        Assert.Contains("hooks", message, StringComparison.Ordinal);
        Assert.Contains("probes", message, StringComparison.Ordinal);
        Assert.EndsWith("use 'encoder.call(...)'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_link_points_to_a_heading_of_docs_torchsharp_md()
    {
        Match link = HelpLink().Match(Rule.HelpLinkUri);
        Assert.True(link.Success, Rule.HelpLinkUri);

        string[] anchors = [.. File.ReadAllLines(Path.Combine(RepositoryRoot.Path, "docs", "torchsharp.md"))
            .Where(line => line.StartsWith('#'))
            .Select(GitHubAnchor)];

        Assert.Contains(link.Groups["anchor"].Value, anchors);
    }

    [Fact]
    public void Release_tracking_records_the_rule_with_its_category_and_severity()
    {
        string unshipped = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "src", "GradientDiagnostics.TorchSharp.Analyzers", "AnalyzerReleases.Unshipped.md"));

        Assert.Matches($@"(?m)^{Rule.Id} \| {Rule.Category} \| {Rule.DefaultSeverity} \|", unshipped);
    }

    // GitHub's heading anchors: lower case, punctuation other than '-' dropped, spaces to '-'.
    private static string GitHubAnchor(string heading) =>
        NotAnchorCharacter().Replace(heading.TrimStart('#').Trim().ToLowerInvariant(), string.Empty).Replace(' ', '-');

    [GeneratedRegex(@"^https://github\.com/gradient-diagnostics/GradientDiagnostics/blob/main/docs/torchsharp\.md#(?<anchor>[a-z0-9-]+)$")]
    private static partial Regex HelpLink();

    [GeneratedRegex(@"[^a-z0-9 \-_]")]
    private static partial Regex NotAnchorCharacter();
}
