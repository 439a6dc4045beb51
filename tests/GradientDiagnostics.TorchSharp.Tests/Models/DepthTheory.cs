namespace GradientDiagnostics.TorchSharp.Tests.Models;

/// <summary>
/// Mean-field theory of signal propagation at init (Poole et al. 2016; Schoenholz et al. 2017): the backward gain per
/// layer is √(σ_w²·E[φ'(z)²]) with z ~ N(0, q*), q* the fixed point of the forward variance map q = σ_w²·E[φ(z)²]
/// (zero biases). σ_w² is n·Var(W): 2 for He, 1 for Xavier on square layers.
/// </summary>
internal static class DepthTheory
{
    public static double Gain(Activation activation, Init init) => Gain(activation, init == Init.He ? 2.0 : 1.0);

    /// <summary>The gain at weight variance σ_w²/n (σ_w² = 1 is Xavier on square layers, 2 is He).</summary>
    public static double Gain(Activation activation, double sigmaW2)
    {
        Func<double, double> phi = activation switch
        {
            Activation.ReLU => z => Math.Max(0, z),
            Activation.Tanh => Math.Tanh,
            _ => z => 1 / (1 + Math.Exp(-z)),
        };
        Func<double, double> phiPrime = activation switch
        {
            Activation.ReLU => z => z > 0 ? 1 : 0,
            Activation.Tanh => z => 1 - (Math.Tanh(z) * Math.Tanh(z)),
            _ => z => { double s = 1 / (1 + Math.Exp(-z)); return s * (1 - s); },
        };

        double q = 1;
        for (int i = 0; i < 100; i++)
        {
            q = sigmaW2 * Gaussian(q, z => phi(z) * phi(z));
        }

        return Math.Sqrt(sigmaW2 * Gaussian(q, z => phiPrime(z) * phiPrime(z)));
    }

    /// <summary>E[f(z)], z ~ N(0, q), by the midpoint rule on ±10 standard deviations.</summary>
    private static double Gaussian(double q, Func<double, double> f)
    {
        const int N = 4_000;
        double sd = Math.Sqrt(q), h = 20.0 / N, sum = 0;
        for (int i = 0; i < N; i++)
        {
            double u = -10 + ((i + 0.5) * h);
            sum += f(u * sd) * Math.Exp(-0.5 * u * u);
        }

        return sum * h / Math.Sqrt(2 * Math.PI);
    }
}
