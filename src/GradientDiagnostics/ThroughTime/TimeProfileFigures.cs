namespace GradientDiagnostics;

/// <summary>The figures derived from a layer's per-step gains: the per-step gain γ, the memory horizon and the growth
/// over the sequence. Computed once here, for the profile every reader shares.</summary>
internal static class TimeProfileFigures
{
    /// <summary>The geometric mean of the finite, positive gains; NaN when there is none.</summary>
    public static double GainPerStep(IReadOnlyList<double> stepGains)
    {
        double logSum = 0;
        int count = 0;
        foreach (double gain in stepGains)
        {
            if (double.IsFinite(gain) && gain > 0)
            {
                logSum += Math.Log(gain);
                count++;
            }
        }

        return count == 0 ? double.NaN : Math.Exp(logSum / count);
    }

    /// <summary>The signal's size k steps back from the last step that has one, relative to its size there: the running
    /// product of the gains of the crossings t → t−1 within the sequence (the crossing of step 0 to the initial state is
    /// left out). Index 0 is 1. A gain that is not finite (no signal reached that step) ends the signal at 0.</summary>
    public static double[] SignalBack(IReadOnlyList<double> stepGains)
    {
        int last = stepGains.Count - 1;
        while (last >= 0 && !(double.IsFinite(stepGains[last]) && stepGains[last] > 0))
        {
            last--;
        }

        if (last < 0)
        {
            return [];
        }

        var signal = new double[last + 1];
        signal[0] = 1;
        for (int k = 1; k <= last; k++)
        {
            double gain = stepGains[last - k + 1];
            signal[k] = double.IsFinite(gain) ? signal[k - 1] * gain : 0;
        }

        return signal;
    }

    /// <summary>The largest k such that the signal stays at or above <paramref name="fraction"/> for every step up to k
    /// back; null when it never falls below within the sequence.</summary>
    public static int? MemoryHorizon(double[] signalBack, double fraction)
    {
        for (int k = 1; k < signalBack.Length; k++)
        {
            if (!(signalBack[k] >= fraction))
            {
                return k - 1;
            }
        }

        return null;
    }

    /// <summary>The largest factor by which the signal grows back through the sequence (1 when it never grows).</summary>
    public static double Growth(double[] signalBack) => signalBack.Length == 0 ? 1 : Math.Max(1, signalBack.Max());
}
