namespace GradientDiagnostics;

/// <summary>Options of the exploding-gradient detector.</summary>
/// <remarks>
/// Defaults: persistence 1 of 1 (one explosion is enough to damage the weights) and a cooldown of 100 steps.
/// </remarks>
public sealed class ExplodingGradientOptions : PersistentDetectorOptions
{
    /// <summary>Creates the options with their defaults.</summary>
    public ExplodingGradientOptions()
        : base(persistence: 1, persistenceWindow: 1, cooldownSteps: 100)
    {
    }

    /// <summary>A global gradient L2 norm above this value explodes.</summary>
    /// <value>The default value is 1e4: four orders of magnitude above the clipping thresholds common recipes use
    /// (1.0 for BERT/GPT-style training, 0.25–5 in Pascanu, Mikolov &amp; Bengio 2013), so a healthy run does not reach it.</value>
    public double GlobalNormThreshold { get; set; } = 1e4;

    /// <summary>A layer whose gradient L2 norm is above this multiple of the smallest layer norm among the layers
    /// between it and the loss explodes: the back-propagated signal grows on its way to the input.</summary>
    /// <value>The default value is 1e4, the mirror image of <see cref="VanishingGradientOptions.RelativeNormThreshold"/>.</value>
    public double RelativeNormThreshold { get; set; } = 1e4;

    internal override void Validate(string path)
    {
        base.Validate(path);
        OptionGuard.Positive(GlobalNormThreshold, $"{path}.{nameof(GlobalNormThreshold)}");
        OptionGuard.InOpenRange(RelativeNormThreshold, 1, double.MaxValue, $"{path}.{nameof(RelativeNormThreshold)}");
    }
}
