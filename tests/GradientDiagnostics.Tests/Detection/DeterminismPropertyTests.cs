using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace GradientDiagnostics.Tests.Detection;

public sealed class DeterminismPropertyTests
{
    private static readonly LayerDescriptor[] Layers =
    [
        new("fc0") { FanIn = 8, FanOut = 8, FollowingActivation = ActivationKind.Sigmoid },
        new("fc1") { FanIn = 8, FanOut = 8, FollowingActivation = ActivationKind.ReLU },
        new("head") { FanIn = 8, FanOut = 2, FollowingActivation = ActivationKind.Identity },
    ];

    private static Gen<float> Value() => Gen.Frequency(
        (1, Gen.Elements(float.NaN, float.PositiveInfinity, 0f, 1e30f)),
        (12, Gen.Choose(-1000, 1000).Select(v => v * 1e-3f)),
        (3, Gen.Choose(-1000, 1000).Select(v => v * 1e-9f)));

    private static Gen<LayerObservation> Observation() =>
        from gradient in Value().ArrayOf(16)
        from weights in Value().ArrayOf(64)
        from previous in Value().ArrayOf(64)
        from pre in Value().Select(v => v * 30).ArrayOf(32)
        from probe in Gen.Choose(0, 3)
        select LayerObservations.Create(gradient, weights, previous, probe == 0 ? null : Math.Pow(10, -probe)) with
        {
            Activations = LayerObservations.SummarizeActivations(pre, 8, ActivationKind.Sigmoid),
        };

    private static Arbitrary<(LayerObservation[] Layers, double Loss)[]> Runs() =>
        (from layers in Observation().ArrayOf(Layers.Length)
         from loss in Gen.Frequency((1, Gen.Constant(double.NaN)), (9, Gen.Choose(0, 100).Select(v => v / 10.0)))
         select (layers, loss)).ArrayOf().ToArbitrary();

    [Property(MaxTest = 60)]
    public Property Detectors_are_deterministic_for_the_same_input() => Prop.ForAll(Runs(), run =>
    {
        string[] first = Alerts(run), second = Alerts(run);
        return first.SequenceEqual(second);
    });

    private static string[] Alerts((LayerObservation[] Layers, double Loss)[] run)
    {
        var analyzer = new GradientAnalyzer(Layers, GradientMonitorOptions.Sensitive());
        return [.. run.SelectMany(s => analyzer.Analyze(s.Layers, s.Loss).Alerts.Select(a => a.ToString()))];
    }
}
