using Microsoft.CodeAnalysis;

namespace GradientDiagnostics.TorchSharp.Analyzers;

/// <summary>The rules of this assembly. Ids are stable: they are what users suppress.</summary>
internal static class DiagnosticDescriptors
{
    /// <summary>The id of <see cref="ChildModuleForwardCall"/>.</summary>
    public const string ChildModuleForwardCallId = "GD0001";

    private const string HelpLinkBase = "https://github.com/gradient-diagnostics/GradientDiagnostics/blob/main/docs/torchsharp.md";

    /// <summary>
    /// <c>child.forward(x)</c> inside a module's <c>forward</c> override: TorchSharp runs a module's forward hooks only
    /// from <c>call</c>, so the monitor's probes never see that child.
    /// </summary>
    public static readonly DiagnosticDescriptor ChildModuleForwardCall = new(
        id: ChildModuleForwardCallId,
        title: "Call child modules with call(...), not forward(...)",
        messageFormat: "'{0}.forward(...)' runs no forward hooks: GradientDiagnostics' probes (and the gradient monitor's per-layer view of outputs and " +
            "activations) do not run for a module called through forward; use '{0}.call(...)'",
        category: "Usage",
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "TorchSharp runs a module's forward hooks only when the module is invoked through call(...). A child module called through forward(...) " +
            "inside its parent's forward override is invisible to every hook: GradientDiagnostics cannot probe it, so it gets no output-gradient norm, no " +
            "activation statistics and no place in the depth profile. Calling it through call(...) computes the same result and runs the hooks.",
        helpLinkUri: HelpLinkBase + "#analyzer-gd0001-child-modules-called-through-forward");
}
