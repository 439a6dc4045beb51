namespace GradientDiagnostics;

/// <summary>
/// A layer's measured weight scale against the init its following activation calls for: Xavier / Glorot
/// (Glorot &amp; Bengio 2010, σ = √(2/(fan_in + fan_out))) for tanh, sigmoid and linear outputs, He / Kaiming
/// (He et al. 2015, σ = √(2/fan_in)) for the ReLU family.
/// </summary>
/// <param name="Scheme">"Xavier" or "He".</param>
/// <param name="Expected">The expected weight standard deviation.</param>
/// <param name="Measured">The measured one: the RMS of the layer's parameters, which equals the weights' standard
/// deviation for zero-mean weights (the case at init) up to the small share of bias elements.</param>
internal readonly record struct InitializationScale(string Scheme, double Expected, double Measured)
{
    /// <summary>Measured / expected: 1 is on target.</summary>
    public double Ratio => Measured / Expected;

    /// <summary>The expected scale, or null when the fan-in, the parameters or the activation are unknown.</summary>
    public static InitializationScale? Measure(LayerDescriptor layer, LayerGradientStatistics observation) =>
        Measure(layer, observation.Parameters);

    /// <summary>The expected scale against parameters measured at some step, or null when the fan-in, the parameters or
    /// the activation are unknown.</summary>
    public static InitializationScale? Measure(LayerDescriptor layer, TensorStatistics? measured)
    {
        if (measured is not TensorStatistics parameters || parameters.ElementCount == 0 || !parameters.IsFinite ||
            ExpectedFor(layer) is not (string scheme, double expected))
        {
            return null;
        }

        return new InitializationScale(scheme, expected, parameters.RootMeanSquare);
    }

    /// <summary>The init scheme and weight standard deviation the layer's following activation calls for; null when the
    /// fan-in or the activation is unknown.</summary>
    public static (string Scheme, double Expected)? ExpectedFor(LayerDescriptor layer)
    {
        if (layer.FanIn is not int fanIn || fanIn <= 0)
        {
            return null;
        }

        int fanOut = layer.FanOut is int f && f > 0 ? f : fanIn;
        return layer.FollowingActivation switch
        {
            ActivationKind.Sigmoid or ActivationKind.Tanh or ActivationKind.Identity => ("Xavier", Math.Sqrt(2.0 / (fanIn + fanOut))),
            ActivationKind.ReLU or ActivationKind.LeakyReLU or ActivationKind.GELU => ("He", Math.Sqrt(2.0 / fanIn)),
            _ => null,
        };
    }
}
