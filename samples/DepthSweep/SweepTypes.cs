namespace GradientDiagnostics.Samples.DepthSweep;

/// <summary>The activations the sweep compares.</summary>
public enum ActivationChoice
{
    /// <summary>The logistic sigmoid (φ' ≤ 0.25).</summary>
    Sigmoid,

    /// <summary>The hyperbolic tangent.</summary>
    Tanh,

    /// <summary>ReLU.</summary>
    ReLU,
}

/// <summary>The weight initializations the sweep compares.</summary>
public enum InitKind
{
    /// <summary>TorchSharp's default Linear init: kaiming_uniform(a = √5), i.e. U(±1/√fan_in), and a uniform bias.</summary>
    Default,

    /// <summary>Xavier (Glorot) normal, zero bias.</summary>
    Xavier,

    /// <summary>He (Kaiming) normal for ReLU, zero bias.</summary>
    He,

    /// <summary>He normal with the weights scaled by 2: a larger-than-He init.</summary>
    He2x,
}

/// <summary>How a network's gradients behave with depth, from the measured first/last output-gradient ratio r.</summary>
public enum DepthClass
{
    /// <summary>|log10 r| ≤ 1: within 10× end to end.</summary>
    Safe,

    /// <summary>r between 1e-3 and 1e-1: starting to vanish.</summary>
    StartingToVanish,

    /// <summary>r between 10 and 1e3: starting to explode.</summary>
    StartingToExplode,

    /// <summary>r &lt; 1e-3.</summary>
    Vanishing,

    /// <summary>r &gt; 1e3.</summary>
    Exploding,

    /// <summary>The ratio could not be measured (the layers were not probed, or the last layer's signal was 0).</summary>
    Unmeasured,
}

/// <summary>The sweep's settings.</summary>
public sealed class SweepSettings
{
    /// <summary>Network depths (number of Linear layers).</summary>
    public IReadOnlyList<int> Depths { get; init; } = [2, 5, 10, 20, 50];

    /// <summary>Activations.</summary>
    public IReadOnlyList<ActivationChoice> Activations { get; init; } = [ActivationChoice.Sigmoid, ActivationChoice.Tanh, ActivationChoice.ReLU];

    /// <summary>Initializations.</summary>
    public IReadOnlyList<InitKind> Inits { get; init; } = [InitKind.Default, InitKind.Xavier, InitKind.He, InitKind.He2x];

    /// <summary>Units per layer.</summary>
    public int Width { get; init; } = 256;

    /// <summary>Examples per batch.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Independent seeds per configuration; gains are averaged geometrically.</summary>
    public int Seeds { get; init; } = 3;

    /// <summary>Monitored steps per seed (SGD, lr 1e-3), so persistent alerts can fire.</summary>
    public int Steps { get; init; } = 5;
}

/// <summary>One configuration's measurements.</summary>
/// <param name="Depth">Linear layers.</param>
/// <param name="Activation">The activation.</param>
/// <param name="Init">The init.</param>
/// <param name="TheoryGain">The mean-field per-layer gain.</param>
/// <param name="MeasuredGain">The monitor's <c>DepthGain</c> at init, averaged geometrically over seeds.</param>
/// <param name="FirstToLastRatio">‖∂L/∂z_first‖ / ‖∂L/∂z_last‖ at init, averaged geometrically over seeds.</param>
/// <param name="Class">The depth classification from <paramref name="FirstToLastRatio"/>.</param>
/// <param name="Alerts">The alert kinds that fired, with counts.</param>
public sealed record SweepRow(int Depth, ActivationChoice Activation, InitKind Init, double TheoryGain, double MeasuredGain, double FirstToLastRatio, DepthClass Class, string Alerts);
