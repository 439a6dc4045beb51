namespace GradientDiagnostics;

/// <summary>
/// One step's clipping in progress: the current per-layer gradient statistics, kept exact through scalings
/// (a scale by c multiplies Σg² by c², Σ|g| by c and max|g| by c) so most chains need no second measurement; element-
/// and unit-wise changes (clamp, AGC) make them stale, and they are measured again only when a later decision needs them.
/// </summary>
internal sealed class ClippingContext
{
    /// <summary>Added to a norm before dividing by it, as <c>torch.nn.utils.clip_grad_norm_</c> does.</summary>
    public const double NormEpsilon = 1e-6;

    private readonly IGradientClippingTarget _target;
    private TensorStatistics[] _layers;
    private TensorStatistics[]? _beforeStaleChange;
    private double _powerSumP = double.NaN;
    private double[]? _powerSums;

    /// <summary>Starts a finite step's clipping; the clipping stage never creates one for a non-finite step.</summary>
    public ClippingContext(TensorStatistics[] layers, IGradientClippingTarget target)
    {
        _layers = layers;
        _target = target;
    }

    /// <summary>The number of layers.</summary>
    public int LayerCount => _layers.Length;

    /// <summary>The product of the global coefficients applied so far.</summary>
    public double Coefficient { get; private set; } = 1;

    /// <summary>Whether a scaling, clamp or unit-wise clip changed a gradient so far (unit-wise changes are known
    /// only after <see cref="Finish"/>).</summary>
    public bool Acted { get; private set; }

    /// <summary>The current statistics of each layer's gradients, measured again if an element-wise change made them stale.</summary>
    public TensorStatistics Layer(int index)
    {
        EnsureMeasured();
        return _layers[index];
    }

    /// <summary>The current total norm of type <paramref name="p"/> over all gradients: 1, 2, any p &gt; 0, or +∞.</summary>
    public double TotalNorm(double p)
    {
        EnsureMeasured();
        if (p == 2 || p == 1 || double.IsPositiveInfinity(p))
        {
            TensorStatistics all = default;
            foreach (TensorStatistics layer in _layers)
            {
                all = TensorStatistics.Combine(all, layer);
            }

            return p == 2 ? all.L2Norm : p == 1 ? all.SumOfMagnitudes : all.MaxFiniteMagnitude;
        }

        if (_powerSums is null || _powerSumP != p)
        {
            _powerSums = _target.PowerSums(p);
            _powerSumP = p;
        }

        return Math.Pow(_powerSums.Sum(), 1 / p);
    }

    /// <summary>Scales every gradient by <paramref name="coefficient"/>; 1 changes nothing and is skipped.</summary>
    public void ScaleAll(double coefficient)
    {
        if (coefficient == 1)
        {
            return;
        }

        Span<double> coefficients = _layers.Length <= 256 ? stackalloc double[_layers.Length] : new double[_layers.Length];
        coefficients.Fill(coefficient);
        ScaleLayers(coefficients);
        Coefficient *= coefficient;
    }

    /// <summary>Scales each layer's gradients by its coefficient; a coefficient of 1 leaves the layer alone.</summary>
    public void ScaleLayers(ReadOnlySpan<double> coefficients)
    {
        bool any = false;
        foreach (double c in coefficients)
        {
            any |= c != 1;
        }

        if (!any)
        {
            return;
        }

        _target.Scale(coefficients);
        Acted = true;
        for (int i = 0; i < _layers.Length; i++)
        {
            double c = coefficients[i];
            TensorStatistics s = _layers[i];
            _layers[i] = s with { SumOfSquares = s.SumOfSquares * c * c, SumOfMagnitudes = s.SumOfMagnitudes * c,
                MaxFiniteMagnitude = s.MaxFiniteMagnitude * c };
            if (_powerSums is not null)
            {
                _powerSums[i] *= Math.Pow(c, _powerSumP);
            }
        }
    }

    /// <summary>Clamps every element to [−value, value] when some element is above it.</summary>
    public void Clamp(double value)
    {
        EnsureMeasured();
        if (!_layers.Any(l => l.MaxFiniteMagnitude > value))
        {
            return;
        }

        _target.Clamp(value);
        Acted = true;
        MarkStale();
    }

    /// <summary>Adaptive gradient clipping on the layers not excluded.</summary>
    public void ClipUnitWise(double clipping, double epsilon, ReadOnlySpan<bool> excluded)
    {
        _target.ClipUnitWise(clipping, epsilon, excluded);
        MarkStale();
    }

    /// <summary>Brings the statistics up to date and settles whether a unit-wise change acted.</summary>
    public void Finish() => EnsureMeasured();

    private void MarkStale()
    {
        _beforeStaleChange ??= _layers;
        _powerSums = null;
    }

    private void EnsureMeasured()
    {
        if (_beforeStaleChange is null)
        {
            return;
        }

        _layers = _target.Measure();
        for (int i = 0; i < _layers.Length && !Acted; i++)
        {
            Acted = _layers[i].SumOfSquares != _beforeStaleChange[i].SumOfSquares || _layers[i].MaxFiniteMagnitude != _beforeStaleChange[i].MaxFiniteMagnitude;
        }

        _beforeStaleChange = null;
    }
}
