using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace GradientDiagnostics.TorchSharp.Analyzers.Tests;

/// <summary>
/// The references of every test compilation: the running .NET runtime's own assemblies and TorchSharp's real managed
/// assembly (the one this project restores), so the analyzer sees TorchSharp's actual <c>Module</c> hierarchy. Nothing
/// is downloaded at test time.
/// </summary>
internal static class TorchSharpCompilation
{
    private static readonly MetadataReference[] References = Load();

    public static void Configure(SolutionState state)
    {
        state.ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        state.AdditionalReferences.AddRange(References);
    }

    private static MetadataReference[] Load()
    {
        string[] runtime = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return
        [
            .. runtime.Where(path => Path.GetDirectoryName(path) == framework).Select(path => MetadataReference.CreateFromFile(path)),
            MetadataReference.CreateFromFile(typeof(global::TorchSharp.torch.nn.Module).Assembly.Location),
        ];
    }
}
