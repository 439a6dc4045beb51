using GradientDiagnostics.Tests.Telemetry;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace GradientDiagnostics.Tests.MixedPrecision;

/// <summary>The core's loss scaler and the analyzer's unscaling, on plain numbers.</summary>
public sealed class LossScalerTests
{
    [Fact]
    public void Dynamic_defaults_are_GradScalers()
    {
        LossScaling scaling = LossScaling.Dynamic();

        Assert.Equal((65536.0, 2.0, 0.5, 2000), (scaling.InitialScale, scaling.GrowthFactor, scaling.BackoffFactor, scaling.GrowthInterval));
        Assert.True(scaling.IsDynamic);
        Assert.Equal(LossScaling.Dynamic().InitialScale, new MixedPrecisionOptions().LossScalingFor(float16Parameters: true).InitialScale);
        Assert.Same(LossScaling.None, new MixedPrecisionOptions().LossScalingFor(float16Parameters: false));
        Assert.Equal("Static(8)", LossScaling.Static(8).ToString());
    }

    [Fact]
    public void Growth_stops_at_the_float32_range_and_backoff_at_its_smallest_normal()
    {
        var scaler = new LossScaler(LossScaling.Dynamic(initialScale: float.MaxValue / 1.5, growthInterval: 1));
        scaler.Update(overflow: false);
        Assert.Equal(float.MaxValue / 1.5f, (float)scaler.Scale); // ×2 would be +Infinity in float32: kept
        Assert.Equal(0, scaler.CleanSteps);

        var shrinking = new LossScaler(LossScaling.Dynamic(initialScale: 1));
        for (int i = 0; i < 200; i++)
        {
            shrinking.Update(overflow: true);
        }

        Assert.Equal(LossScaler.MinimumScale, (float)shrinking.Scale);
    }

    [Fact]
    public void Static_and_none_never_change()
    {
        var scaler = new LossScaler(LossScaling.Static(128));
        scaler.Update(overflow: true);
        scaler.Update(overflow: false);
        Assert.Equal(new LossScalerState(128, 0), scaler.Save());
        Assert.Throws<ArgumentOutOfRangeException>(() => LossScaling.Static(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LossScaling.Dynamic(backoffFactor: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LossScaling.Dynamic(growthInterval: 0));
    }

    [Fact]
    public void Analyzer_divides_the_statistics_by_the_scale_and_always_skips_an_overflow()
    {
        using var factory = new TestMeterFactory();
        using var gauge = new MetricCollector<double>(factory, GradientTelemetryInstruments.MeterName, GradientTelemetryInstruments.LossScale);
        using var analyzer = new GradientAnalyzer(["a", "b"], new GradientMonitorOptions { SkipNonFiniteSteps = false, Telemetry = { MeterFactory = factory } });
        LossScaler scaler = analyzer.EnableLossScaling(LossScaling.Dynamic(initialScale: 1024, growthInterval: 1));
        float[] a = [1024, -2048, 0, 512], b = [3072];
        LayerObservation[] observations = [new(TensorStatistics.Compute(a)) { OutputGradientNorm = 4096 }, new(TensorStatistics.Compute(b))];

        GradientStepResult clean = analyzer.Analyze(observations);

        Assert.Equal(1024, clean.LossScale);
        Assert.Equal(Math.Sqrt(1 + 4 + 0.25 + 9), clean.GlobalNorm, 12);
        Assert.Equal(2, clean.Layers[0].Gradient.MaxFiniteMagnitude);
        Assert.Equal(3.5, clean.Layers[0].Gradient.SumOfMagnitudes);
        Assert.Equal(1, clean.Layers[0].Gradient.ZeroCount); // counts stay as stored
        Assert.Equal(4, clean.Layers[0].OutputGradientNorm);
        Assert.Equal(2048, scaler.Scale);

        observations[1] = new(TensorStatistics.Compute([float.PositiveInfinity]));
        GradientStepResult overflow = analyzer.Analyze(observations);

        Assert.True(overflow.SkipStep); // although SkipNonFiniteSteps is off
        Assert.Equal(2048, overflow.LossScale);
        Assert.Equal(1024, scaler.Scale);
        Assert.Equal([1024.0, 2048.0], gauge.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Throws<InvalidOperationException>(() => analyzer.EnableLossScaling(LossScaling.None));
    }

    [Fact]
    public void A_dynamic_scalers_overflow_above_scale_1_raises_no_alert_and_one_at_scale_1_does()
    {
        using var analyzer = new GradientAnalyzer(["a", "b"], new GradientMonitorOptions());
        LossScaler scaler = analyzer.EnableLossScaling(LossScaling.Dynamic(initialScale: 2, growthInterval: 1000));
        LayerObservation[] overflowing = [new(TensorStatistics.Compute([1f, 2f])), new(TensorStatistics.Compute([float.PositiveInfinity]))];

        GradientStepResult probe = analyzer.Analyze(overflowing, loss: 0.5);
        GradientStepResult real = analyzer.Analyze(overflowing, loss: 0.5);

        Assert.True(probe.SkipStep);
        Assert.Empty(probe.Alerts);
        Assert.Equal(1, real.LossScale);
        Assert.True(real.SkipStep);
        Assert.Equal("b", Assert.Single(real.Alerts, a => a.Kind == GradientAlertKind.NonFinite).Layer);
        Assert.Equal(0.5, scaler.Scale);
    }
}
