using GradientDiagnostics.TorchSharp.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace GradientDiagnostics.TorchSharp.Analyzers.Tests;

/// <summary>Runs GD0001 and its code fix on C# sources compiled against the real TorchSharp.</summary>
internal static class Verifier
{
    public static DiagnosticResult Diagnostic(int location, string receiver) =>
        new DiagnosticResult(DiagnosticDescriptors.ChildModuleForwardCall).WithLocation(location).WithArguments(receiver);

    /// <summary>Asserts exactly <paramref name="expected"/> and that the code fix (one by one and fix-all) gives <paramref name="fixedSource"/>.</summary>
    public static Task VerifyCodeFixAsync(string source, string fixedSource, params DiagnosticResult[] expected)
    {
        var test = new CSharpCodeFixTest<ChildModuleForwardCallAnalyzer, ChildModuleForwardCallCodeFixProvider, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
        };
        TorchSharpCompilation.Configure(test.TestState);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>Asserts that the source compiles cleanly and the analyzer reports nothing.</summary>
    public static Task VerifyNoDiagnosticAsync(string source)
    {
        var test = new CSharpAnalyzerTest<ChildModuleForwardCallAnalyzer, DefaultVerifier> { TestCode = source };
        TorchSharpCompilation.Configure(test.TestState);
        return test.RunAsync();
    }
}
