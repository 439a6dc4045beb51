namespace GradientDiagnostics.Samples.Tests;

/// <summary>
/// Tests that run a sample's own build output (samples/*/bin) or build it again. A build copies libLibTorchSharp.so
/// over the output copy and patches it again (build/LibTorchSharpCompat.targets), which must never happen under a
/// sample process that has the library loaded: these tests run one at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SampleOutputCollection
{
    public const string Name = "sample build output";
}
