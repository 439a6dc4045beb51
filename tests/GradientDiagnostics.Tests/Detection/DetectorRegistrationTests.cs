using GradientDiagnostics.Testing;

namespace GradientDiagnostics.Tests.Detection;

/// <summary>A detector is registered by its options property on <see cref="GradientMonitorOptions"/>; validation, the
/// presets, the alert-kind mapping and the analyzer's list all come from that one line.</summary>
public sealed class DetectorRegistrationTests
{
    [Fact]
    public void Every_detector_options_property_is_registered_in_declaration_order()
    {
        string[] paths = [.. new GradientMonitorOptions().Detectors.Select(d => d.Path)];

        Assert.Equal(["NonFinite", "Vanishing", "Exploding", "Saturation", "DeadUnits", "PoorInitialization", "UpdateRatio", "Precision", "PersistentClipping"], paths);
    }

    [Fact]
    public void Each_registered_detector_is_created_when_enabled_and_not_when_disabled()
    {
        var options = new GradientMonitorOptions();
        var context = new DetectorContext([new LayerDescriptor("fc")], ClippingConfigured: true);

        foreach ((string path, DetectorOptions detector) in options.Detectors)
        {
            detector.Enabled = true;
            Assert.True(detector.Build(context) is not null, path);
            detector.Enabled = false;
            Assert.True(detector.Build(context) is null, path);
        }
    }

    [Fact]
    public void Persistent_clipping_is_not_created_without_a_clipping_policy()
    {
        var context = new DetectorContext([new LayerDescriptor("fc")], ClippingConfigured: false);

        Assert.Null(new PersistentClippingOptions().Build(context));
    }

    [Fact]
    public void Each_registered_detector_lives_in_its_own_folder_named_after_its_option()
    {
        var context = new DetectorContext([new LayerDescriptor("fc")], ClippingConfigured: true);
        string detection = Path.Combine(RepositoryRoot.Path, "src", "GradientDiagnostics", "Detection");

        foreach ((string path, DetectorOptions options) in new GradientMonitorOptions().Detectors)
        {
            options.Enabled = true;
            string folder = Path.Combine(detection, path);
            Assert.True(File.Exists(Path.Combine(folder, options.GetType().Name + ".cs")), $"{options.GetType().Name} is not in Detection/{path}/");
            string detector = options.Build(context)!.GetType().Name;
            Assert.True(File.Exists(Path.Combine(folder, detector + ".cs")), $"{detector} is not in Detection/{path}/");
        }
    }
}
