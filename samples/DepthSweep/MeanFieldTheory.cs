namespace GradientDiagnostics.Samples.DepthSweep;

/// <summary>
/// The per-layer gain of back-propagated gradients predicted by mean-field theory (Poole et al. 2016, "Exponential
/// expressivity in deep neural networks through transient chaos"; Schoenholz et al. 2017, "Deep Information
/// Propagation"): with pre-activations z ~ N(0, q_l), each layer multiplies ‖∂L/∂z‖ by √χ_l where
/// χ_l = σ_w²·E[φ'(z)²], and the variance propagates as q_{l+1} = σ_w²·E[φ(z)²] + σ_b².
/// </summary>
public static class MeanFieldTheory
{
    /// <summary>σ_w² = fan_in·Var(w) and σ_b² = Var(b) of an init, for a square layer of the given width.</summary>
    public static (double WeightVariance, double BiasVariance) Variances(InitKind init, int width) => init switch
    {
        // TorchSharp's default: kaiming_uniform(a = √5) → U(±1/√fan_in), Var = 1/(3·fan_in); bias U(±1/√fan_in).
        InitKind.Default => (1.0 / 3.0, 1.0 / (3.0 * width)),
        InitKind.Xavier => (1.0, 0.0), // Var = 2/(fan_in + fan_out) = 1/n for a square layer; bias zeroed.
        InitKind.He => (2.0, 0.0), // Var = 2/fan_in; bias zeroed.
        InitKind.He2x => (8.0, 0.0), // He with weights scaled ×2: σ_w² = 4·2.
        _ => throw new ArgumentOutOfRangeException(nameof(init)),
    };

    /// <summary>The geometric mean of √χ_l over the depth − 1 consecutive layer pairs, from inputs of unit variance.</summary>
    public static double Gain(ActivationChoice activation, InitKind init, int width, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 2);
        (double sw2, double sb2) = Variances(init, width);
        double q = sw2 * 1.0 + sb2; // inputs x ~ N(0, 1)
        double logSum = 0;
        for (int layer = 0; layer < depth - 1; layer++)
        {
            (double phi2, double dphi2) = GaussianMoments(activation, q);
            logSum += 0.5 * Math.Log(sw2 * dphi2);
            q = sw2 * phi2 + sb2;
        }

        return Math.Exp(logSum / (depth - 1));
    }

    /// <summary>E[φ(z)²] and E[φ'(z)²] for z ~ N(0, q), by the trapezoid rule over ±10σ.</summary>
    private static (double Phi2, double DPhi2) GaussianMoments(ActivationChoice activation, double q)
    {
        const int Points = 4001;
        double sigma = Math.Sqrt(Math.Max(q, 1e-300));
        double h = 20.0 * sigma / (Points - 1);
        double phi2 = 0, dphi2 = 0;
        for (int i = 0; i < Points; i++)
        {
            double z = -10.0 * sigma + i * h;
            double weight = Math.Exp(-z * z / (2 * q)) / Math.Sqrt(2 * Math.PI * q) * h * (i == 0 || i == Points - 1 ? 0.5 : 1.0);
            (double f, double df) = activation switch
            {
                ActivationChoice.Sigmoid => (1 / (1 + Math.Exp(-z)), Math.Exp(-z) / Math.Pow(1 + Math.Exp(-z), 2)),
                ActivationChoice.Tanh => (Math.Tanh(z), 1 - Math.Tanh(z) * Math.Tanh(z)),
                _ => (Math.Max(z, 0), z > 0 ? 1.0 : 0.0),
            };
            phi2 += weight * f * f;
            dphi2 += weight * df * df;
        }

        return (phi2, dphi2);
    }
}
