namespace GradientDiagnostics;

/// <summary>One monitor's AutoClip (<see cref="AutoClipClipping"/>): the sorted history of pre-clip global L2 norms,
/// optionally only the last <c>window</c> of them.</summary>
internal sealed class AutoClipPolicy(double percentile, int? window) : IClippingPolicy
{
    private readonly List<double> _sorted = [];
    private readonly Queue<double> _arrivals = new();

    public void Apply(ClippingContext context)
    {
        double norm = context.TotalNorm(2);
        double threshold = Observe(norm);
        context.ScaleAll(GlobalNormClipping.Coefficient(threshold, norm));
    }

    /// <summary>Adds a norm to the history and returns the history's percentile.</summary>
    public double Observe(double norm)
    {
        Insert(norm);
        _arrivals.Enqueue(norm);
        if (window is int w && _arrivals.Count > w)
        {
            double oldest = _arrivals.Dequeue();
            _sorted.RemoveAt(_sorted.BinarySearch(oldest) is int at && at >= 0 ? at : throw new InvalidOperationException("AutoClip history out of sync."));
        }

        return Percentile(_sorted, percentile);
    }

    /// <summary>numpy's <c>percentile(a, q)</c> with its default linear interpolation, over sorted values:
    /// rank r = q/100 · (n − 1), value = a[⌊r⌋] + (r − ⌊r⌋)·(a[⌊r⌋+1] − a[⌊r⌋]).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        double rank = q / 100 * (sorted.Count - 1);
        int low = (int)Math.Floor(rank);
        int high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + ((rank - low) * (sorted[high] - sorted[low]));
    }

    private void Insert(double norm)
    {
        int at = _sorted.BinarySearch(norm);
        _sorted.Insert(at >= 0 ? at : ~at, norm);
    }

    /// <summary>The norms in arrival order: the sorted history is rebuilt from them.</summary>
    public ComponentState SaveState() => new ComponentState().With("norms", _arrivals);

    public void LoadState(ComponentState state)
    {
        List<double> norms = state.SeriesOf("norms");
        if ((window is int w && norms.Count > w) || norms.Any(double.IsNaN))
        {
            throw new InvalidDataException($"The saved AutoClip history of {norms.Count} norms does not fit this policy's window of {window}.");
        }

        _arrivals.Clear();
        _sorted.Clear();
        foreach (double norm in norms)
        {
            _arrivals.Enqueue(norm);
            Insert(norm);
        }
    }
}
