namespace GradientDiagnostics;

/// <summary>
/// The loss spike criterion, after OLMo-core's <c>SkipStepOptimizer</c>: the z-score of the loss against the mean and
/// sample standard deviation of the last <c>window</c> applied losses, judged once max(20, window / 2) are known, with
/// Lightning's relative floor (the loss must also be a multiple of that mean). Only increases count: a falling loss is
/// progress. Fixed memory.
/// </summary>
internal sealed class LossSpikeCriterion(int window, double zScoreThreshold, double minFactorOverMean)
{
    private readonly double[] _losses = new double[window];
    private readonly int _minimumCount = Math.Max(20, window / 2);
    private int _next;
    private int _count;

    /// <summary>Whether <paramref name="loss"/> spikes against the losses added so far; the z-score and mean are returned
    /// for the alert (0 when not yet judged).</summary>
    public bool IsSpike(double loss, out double zScore, out double mean)
    {
        zScore = 0;
        mean = 0;
        if (_count < _minimumCount || !double.IsFinite(loss))
        {
            return false;
        }

        double sum = 0;
        for (int i = 0; i < _count; i++)
        {
            sum += _losses[i];
        }

        mean = sum / _count;
        double squares = 0;
        for (int i = 0; i < _count; i++)
        {
            double d = _losses[i] - mean;
            squares += d * d;
        }

        double sigma = Math.Sqrt(squares / (_count - 1));
        double deviation = loss - mean;
        zScore = sigma > 0 ? deviation / sigma : deviation > 0 ? double.PositiveInfinity : 0;
        return zScore > zScoreThreshold && (mean <= 0 || loss >= minFactorOverMean * mean);
    }

    /// <summary>Adds the loss of an applied step.</summary>
    public void Add(double loss)
    {
        if (!double.IsFinite(loss))
        {
            return;
        }

        _losses[_next] = loss;
        _next = (_next + 1) % _losses.Length;
        _count = Math.Min(_count + 1, _losses.Length);
    }

    /// <summary>Adds the loss window to a saved state: the ring buffer as stored and its next slot.</summary>
    public ComponentState SaveState(ComponentState state) => state.With("losses", _losses.Take(_count)).With("lossesNext", (long)_next);

    public void LoadState(ComponentState state)
    {
        List<double> losses = state.SeriesOf("losses");
        long next = state.CountOf("lossesNext");
        if (losses.Count > _losses.Length || next < 0 || next >= _losses.Length || (losses.Count < _losses.Length && next != losses.Count))
        {
            throw new InvalidDataException(
                $"The saved loss window of {losses.Count} losses does not fit this monitor's Recovery.LossWindow of {_losses.Length}.");
        }

        Array.Clear(_losses);
        losses.CopyTo(_losses);
        (_count, _next) = (losses.Count, (int)next);
    }
}
