using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace GradientDiagnostics.Seam.Tests;

/// <summary>The core has two public surfaces: the user's (<c>GradientDiagnostics</c>) and the adapter's
/// (<c>GradientDiagnostics.Adapters</c>), and this second adapter needs nothing beyond them.</summary>
public sealed class NamespaceSplitTests
{
    private static readonly string Core = typeof(GradientAnalyzer).Assembly.GetName().Name!;

    [Fact]
    public void This_adapter_references_core_types_only_from_the_root_and_adapters_namespaces()
    {
        using FileStream stream = File.OpenRead(typeof(NamespaceSplitTests).Assembly.Location);
        using var pe = new PEReader(stream);
        MetadataReader metadata = pe.GetMetadataReader();

        // Every core type this assembly's IL and signatures name, read from its metadata (nested types resolve through
        // their declaring type, so the top-level references cover them).
        var namespaces = new SortedSet<string>(StringComparer.Ordinal);
        foreach (TypeReferenceHandle handle in metadata.TypeReferences)
        {
            TypeReference reference = metadata.GetTypeReference(handle);
            if (reference.ResolutionScope.Kind == HandleKind.AssemblyReference
                && metadata.GetString(metadata.GetAssemblyReference((AssemblyReferenceHandle)reference.ResolutionScope).Name) == Core)
            {
                namespaces.Add(metadata.GetString(reference.Namespace));
            }
        }

        Assert.Equal(["GradientDiagnostics", "GradientDiagnostics.Adapters"], namespaces);
        Assert.DoesNotContain(typeof(NamespaceSplitTests).Assembly.GetReferencedAssemblies(), a => a.Name!.Contains("TorchSharp", StringComparison.Ordinal));
    }

    [Fact]
    public void The_core_publishes_only_the_users_and_the_adapters_namespaces()
    {
        string[] namespaces = [.. typeof(GradientAnalyzer).Assembly.GetExportedTypes().Select(t => t.Namespace ?? "").Distinct().Order()];

        Assert.Equal(["GradientDiagnostics", "GradientDiagnostics.Adapters"], namespaces);
    }

    [Fact]
    public void The_users_namespace_holds_at_most_52_public_types()
    {
        // Issue 25: what a user of AttachGradientMonitor types stays small; what only an adapter needs is in Adapters.
        Type[] root = [.. typeof(GradientAnalyzer).Assembly.GetExportedTypes().Where(t => t.Namespace == "GradientDiagnostics" && !t.IsNested)];

        Assert.InRange(root.Length, 1, 52);
        Assert.Contains(typeof(GradientAlert), root);
        Assert.DoesNotContain(typeof(GradientAnalyzer), root);
    }
}
