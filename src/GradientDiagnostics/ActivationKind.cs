namespace GradientDiagnostics;

/// <summary>An activation function, as far as the detectors care: whether it saturates, and which init suits it.</summary>
public enum ActivationKind
{
    /// <summary>Not known.</summary>
    Unknown = 0,

    /// <summary>No activation (a linear output).</summary>
    Identity = 1,

    /// <summary>The logistic sigmoid; saturates at both ends; Xavier init.</summary>
    Sigmoid = 2,

    /// <summary>The hyperbolic tangent; saturates at both ends; Xavier init.</summary>
    Tanh = 3,

    /// <summary>ReLU; units can die; He init.</summary>
    ReLU = 4,

    /// <summary>Leaky ReLU, PReLU, ELU, SELU and the like; He init.</summary>
    LeakyReLU = 5,

    /// <summary>GELU, SiLU / Swish, Mish; He init.</summary>
    GELU = 6,
}
