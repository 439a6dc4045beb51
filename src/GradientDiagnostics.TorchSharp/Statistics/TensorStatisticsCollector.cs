using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// Measures tensors' element statistics where they live, into one <see cref="TensorStatistics"/> per layer. Dense
/// float32 and float64 CPU tensors are read in place through a zero-copy span, in <see cref="Complete"/>: on the calling
/// thread, plus the cores libtorch's intra-op threads leave free when there are at least <see cref="ParallelElements"/>
/// of them (see <see cref="ReadThreads"/>). (float64 takes this read rather than the device path because it is the faster
/// of the two: docs/performance.md, "The device path".) Every other tensor (CUDA, other dtypes, non-contiguous, sparse)
/// is reduced on its device (<see cref="DeviceReduction"/>) and its few numbers are queued on the step's
/// <see cref="HostTransfer"/>, read back in <see cref="Complete"/>. Dense float16 and bfloat16 CPU tensors are read once
/// on the calling thread, widened to float32 in chunks (<see cref="SixteenBitStatistics"/>), never summed in 16 bits; on
/// the device, 16-bit tensors are reduced in float32. For them the collector also keeps, per layer, the figures measured on the values as stored
/// (<see cref="SixteenBit"/>).
/// </summary>
/// <param name="layerCount">The layers whose statistics are collected.</param>
/// <param name="sharedScratch">The device path's reused buffers when another collector owns them (the monitor's
/// parameter reads share the gradient reader's, so a step holds one set); null: this collector owns its own.</param>
internal sealed class TensorStatisticsCollector(int layerCount, ReductionScratch? sharedScratch = null) : IDisposable
{
    /// <summary>CPU elements per step from which the read is split across cores: 2²⁰ floats (4 MB), about 0.1–0.2 ms on
    /// one core here, well above the ~10–20 µs a parallel loop costs to start.</summary>
    internal const long ParallelElements = 1 << 20;

    /// <summary>Elements per parallel work item (1 MB of floats): large tensors are split so the cores share the work.</summary>
    private const int ChunkElements = 1 << 18;

    private readonly TensorStatistics[] _statistics = new TensorStatistics[layerCount];
    private readonly List<DeviceEntry> _deferred = [];
    private readonly HostTransfer _exactTransfer = new();
    private readonly ReductionScratch _scratch = sharedScratch ?? new();
    private HostTransfer? _transfer;
    private bool _forced;
    private readonly List<(int Layer, torch.Tensor Tensor)> _cpu = [];
    private readonly SixteenBitLayers _sixteenBit = new(layerCount);
    private readonly List<(int Tensor, int Offset, int Length)> _chunks = [];
    private readonly ParallelOptions _parallel = new();
    private TensorStatistics[] _chunkStatistics = [];
    private long _cpuElements;

    /// <summary>Reads on the calling thread only, whatever the size and the free cores (a control for the paired
    /// benchmark).</summary>
    internal static bool ParallelReadDisabled { get; set; }

    /// <summary>When set, the threads every large CPU read uses, in place of <see cref="ReadThreads"/> (a control for the
    /// benchmarks: a parallel read where libtorch's threads cover every core).</summary>
    internal static int? ReadThreadsOverride { get; set; }

    /// <summary>How many threads the last step's CPU read used (1: the calling thread only).</summary>
    internal int LastReadThreads { get; private set; } = 1;

    /// <summary>
    /// The threads a CPU read of <paramref name="elements"/> floats may use: the calling thread, plus every core that
    /// libtorch's <paramref name="torchThreads"/> intra-op threads (the calling thread among them) leave free. Below
    /// <see cref="ParallelElements"/> the read stays on the calling thread. When libtorch's threads cover every core
    /// (its default on a machine without SMT), the read stays there too: libtorch's OpenMP threads wait for each other
    /// at every parallel region, so a thread-pool worker that takes one of their cores delays the whole next operation.
    /// Measured in whole training steps on 2 cores (docs/performance.md, "Cost outside Step()"): with libtorch's 2
    /// threads the thread-pool read took <c>Step()</c> from 1.86 to 3.14 ms on 500 layers (quiet) and from 4.31 to
    /// 6.40 ms on 50 × Linear(512) (loaded), and saved at most 0.3 ms; with libtorch on 1 thread it saved 0.3 ms on both.
    /// </summary>
    internal static int ReadThreads(long elements, int torchThreads, int processors) =>
        elements < ParallelElements ? 1 : Math.Max(1, processors - Math.Max(1, torchThreads) + 1);

    /// <summary>Whether the step's device reads also count zeros (and, for every tensor, NaN and ±Infinity are counted
    /// only when its norms come back non-finite). On when the step is a full-statistics one; the CPU reads always count.
    /// 16-bit tensors' zero-or-subnormal counts are taken on every step, as the managed read does, because the precision
    /// detector judges them every step.</summary>
    public bool CountZeros { get; set; } = true;

    /// <summary>How many tensors of the last step took the second, exact read (their norms came back non-finite).</summary>
    internal int LastExactReads { get; private set; }

    /// <summary>The statistics per layer, complete after <see cref="Complete"/>.</summary>
    public ReadOnlySpan<TensorStatistics> Statistics => _statistics;

    /// <summary>Per layer, the statistics of its 16-bit tensors as stored; null for a layer without one. Complete after
    /// <see cref="Complete"/>.</summary>
    public ReadOnlySpan<SixteenBitStatistics?> SixteenBit => _sixteenBit.Statistics;

    /// <summary>Per layer, the format of the tensors added this step (<see cref="NumericFormat.Unknown"/> when none, or
    /// when they differ).</summary>
    public ReadOnlySpan<NumericFormat> Formats => _sixteenBit.Formats;

    /// <summary>Starts a new step: forgets the previous step's statistics.</summary>
    public void Begin()
    {
        Array.Clear(_statistics);
        _sixteenBit.Begin();
        _deferred.Clear();
        _cpu.Clear();
        _cpuElements = 0;
        _transfer = null;
        _forced = DevicePath.ForcedOnCpu;
    }

    /// <summary>Adds a tensor's elements to a layer's statistics; device work lands in the caller's dispose scope. A CPU
    /// tensor is read in <see cref="Complete"/>: it must stay alive until then.</summary>
    public void Add(int layer, torch.Tensor tensor, HostTransfer transfer)
    {
        UnitNorms? none = null;
        Add(layer, tensor, transfer, weight: null, ref none);
    }

    /// <summary>Adds a gradient's elements to a layer's statistics, as <see cref="Add(int, torch.Tensor, HostTransfer)"/>
    /// does; with <paramref name="weight"/> (its parameter), a gradient the device path reads unit by unit
    /// (<see cref="DeviceReduction.CanReadUnits"/>) is read into <paramref name="units"/> (made, or made again, to fit it:
    /// <see cref="UnitNorms.For"/>), and the call returns true.</summary>
    public bool Add(int layer, torch.Tensor tensor, HostTransfer transfer, torch.Tensor? weight, ref UnitNorms? units)
    {
        torch.ScalarType dtype = tensor.dtype;
        if (!_forced && dtype is torch.ScalarType.Float32 or torch.ScalarType.Float64 && IsDenseCpu(tensor) && tensor.numel() <= int.MaxValue)
        {
            _sixteenBit.NoteFormat(layer, DeviceReduction.FormatOf(dtype));
            _cpu.Add((layer, tensor));
            _cpuElements += tensor.numel();
            return false;
        }

        NumericFormat format = DeviceReduction.FormatOf(dtype);
        _sixteenBit.NoteFormat(layer, format);
        NumericFormat sixteenBit = format is NumericFormat.Float16 or NumericFormat.BFloat16 ? format : NumericFormat.Unknown;
        if (sixteenBit != NumericFormat.Unknown && !_forced && IsDenseCpu(tensor) && tensor.numel() <= int.MaxValue)
        {
            _sixteenBit.QueueCpu(layer, tensor, sixteenBit);
        }
        else if (weight is not null && DeviceReduction.CanReadUnits(tensor))
        {
            units = UnitNorms.For(units, tensor);
            units.Read(weight, tensor, _scratch);
            QueueUnits(layer, tensor, units, transfer);
            return true;
        }
        else
        {
            _transfer = transfer;
            (int first, int chunks) = DeviceReduction.QueueNorms(tensor, sixteenBit, CountZeros, transfer, _scratch);
            _deferred.Add(new DeviceEntry(layer, tensor, sixteenBit, CountZeros, first, chunks, tensor.numel()));
        }

        return false;
    }

    /// <summary>Adds a float32 or float64 tensor's statistics from its unit norms (<see cref="UnitNorms.Read"/>,
    /// scaled since as the tensor was): no pass over the tensor, except its nonzero count when counting zeros.</summary>
    public void AddUnitNorms(int layer, torch.Tensor tensor, UnitNorms norms, HostTransfer transfer)
    {
        _sixteenBit.NoteFormat(layer, DeviceReduction.FormatOf(tensor.dtype));
        QueueUnits(layer, tensor, norms, transfer);
    }

    private void QueueUnits(int layer, torch.Tensor tensor, UnitNorms norms, HostTransfer transfer)
    {
        _transfer = transfer;
        int first = DeviceReduction.QueueUnitEntry(tensor, norms, CountZeros, transfer);
        _deferred.Add(new DeviceEntry(layer, tensor, NumericFormat.Unknown, CountZeros, first, 1, tensor.numel(), norms.Units));
    }

    /// <summary>Reads the CPU tensors and folds the device results, now on the host, into the layers' statistics. A tensor
    /// whose norms came back non-finite is read again, exactly, with a second host transfer (on that step only).</summary>
    public void Complete(ReadOnlySpan<double> host)
    {
        _ = host;
        MeasureCpuTensors();
        _sixteenBit.MeasureCpu(_statistics);
        LastExactReads = 0;
        if (_deferred.Count == 0)
        {
            return;
        }

        ReadOnlySpan<double> scalars = _transfer!.Scalars;
        List<(DeviceEntry Entry, int First, int Chunks)>? exact = null;
        foreach (DeviceEntry entry in _deferred)
        {
            int fields = DeviceReduction.NormFieldCount(entry.CountZeros, entry.SixteenBit);
            double squares = 0, magnitudes = 0, max = 0, nonzero = 0, normal = 0;
            if (entry.Units > 0)
            {
                int units = (int)entry.Units;
                ReadOnlySpan<double> v = scalars.Slice(entry.First, DeviceReduction.UnitFieldCount(units, entry.CountZeros));
                squares = TensorPrimitives.SumOfSquares(v[..units]);
                magnitudes = TensorPrimitives.Sum(v.Slice(units, units));
                max = TensorPrimitives.Max(v.Slice(2 * units, units));
                nonzero = entry.CountZeros ? v[3 * units] : 0;
            }

            for (int c = 0; entry.Units == 0 && c < entry.Chunks; c++)
            {
                ReadOnlySpan<double> v = scalars.Slice(entry.First + c * fields, fields);
                bool sixteenBit = entry.SixteenBit != NumericFormat.Unknown;
                squares += v[0] * v[0];
                magnitudes += sixteenBit ? v[2] : v[1];
                max = Math.Max(max, sixteenBit ? v[1] : v[2]);
                normal += sixteenBit ? v[3] : 0;
                nonzero += entry.CountZeros ? v[sixteenBit ? 4 : 3] : 0;
            }

            if (!double.IsFinite(squares) || !double.IsFinite(magnitudes) || !double.IsFinite(max))
            {
                exact ??= [];
                exact.Add((entry, 0, 0));
                continue;
            }

            var statistics = new TensorStatistics
            {
                ElementCount = entry.Elements,
                SumOfSquares = squares,
                SumOfMagnitudes = magnitudes,
                MaxFiniteMagnitude = max,
                ZeroCount = entry.CountZeros ? entry.Elements - (long)nonzero : 0,
            };
            Fold(entry, statistics, entry.Elements - (long)normal);
        }

        if (exact is not null)
        {
            ReadExactly(exact);
        }

        _deferred.Clear();
    }

    /// <summary>The second read of a non-finite step: the tensors whose norms came back NaN or ±∞, counted and summed over
    /// their finite elements in float64 chunks, in one more host transfer.</summary>
    private void ReadExactly(List<(DeviceEntry Entry, int First, int Chunks)> exact)
    {
        LastExactReads = exact.Count;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        for (int k = 0; k < exact.Count; k++)
        {
            (int first, int chunks) = DeviceReduction.QueueExact(exact[k].Entry.Tensor, exact[k].Entry.SixteenBit, _exactTransfer, _scratch);
            exact[k] = (exact[k].Entry, first, chunks);
        }

        _exactTransfer.Fetch();
        ReadOnlySpan<double> scalars = _exactTransfer.Scalars;
        foreach ((DeviceEntry entry, int first, int chunks) in exact)
        {
            double nan = 0, infinite = 0, nonzero = 0, normal = 0, squares = 0, magnitudes = 0, max = 0;
            for (int c = 0; c < chunks; c++)
            {
                ReadOnlySpan<double> v = scalars.Slice(first + c * DeviceReduction.ExactFields, DeviceReduction.ExactFields);
                (nan, infinite, nonzero, normal) = (nan + v[0], infinite + v[1], nonzero + v[2], normal + v[3]);
                (squares, magnitudes, max) = (squares + v[4] * v[4], magnitudes + v[5], Math.Max(max, v[6]));
            }

            var statistics = new TensorStatistics
            {
                ElementCount = entry.Elements,
                SumOfSquares = squares,
                SumOfMagnitudes = magnitudes,
                MaxFiniteMagnitude = max,
                ZeroCount = entry.Elements - (long)nonzero,
                NaNCount = (long)nan,
                InfinityCount = (long)infinite,
            };
            Fold(entry, statistics, entry.Elements - (long)normal);
        }
    }

    private void Fold(in DeviceEntry entry, in TensorStatistics statistics, long zeroOrSubnormal)
    {
        _statistics[entry.Layer] = TensorStatistics.Combine(_statistics[entry.Layer], statistics);
        if (entry.SixteenBit != NumericFormat.Unknown)
        {
            _sixteenBit.Add(entry.Layer, new SixteenBitStatistics { Format = entry.SixteenBit, Values = statistics, ZeroOrSubnormalCount = zeroOrSubnormal });
        }
    }

    /// <summary>Reads the CPU tensors in place, on the free cores too when there is enough to read (see
    /// <see cref="ReadThreads"/>), and combines the results in a fixed order (the same sums whatever the scheduling).</summary>
    private void MeasureCpuTensors()
    {
        int threads = ParallelReadDisabled || _cpuElements < ParallelElements
            ? 1
            : ReadThreadsOverride ?? ReadThreads(_cpuElements, torch.get_num_threads(), Environment.ProcessorCount);
        LastReadThreads = threads;
        if (threads == 1)
        {
            foreach ((int layer, torch.Tensor tensor) in _cpu)
            {
                _statistics[layer] = TensorStatistics.Combine(_statistics[layer], Measure(tensor, 0, (int)tensor.numel()));
            }
        }
        else
        {
            _chunks.Clear();
            for (int t = 0; t < _cpu.Count; t++)
            {
                int length = (int)_cpu[t].Tensor.numel();
                for (int offset = 0; offset < length || offset == 0; offset += ChunkElements)
                {
                    _chunks.Add((t, offset, Math.Min(ChunkElements, length - offset)));
                }
            }

            if (_chunkStatistics.Length < _chunks.Count)
            {
                _chunkStatistics = new TensorStatistics[_chunks.Count];
            }

            _parallel.MaxDegreeOfParallelism = threads;
            Parallel.For(0, _chunks.Count, _parallel, k =>
            {
                (int t, int offset, int length) = _chunks[k];
                _chunkStatistics[k] = Measure(_cpu[t].Tensor, offset, length);
            });

            for (int k = 0; k < _chunks.Count; k++)
            {
                int layer = _cpu[_chunks[k].Tensor].Layer;
                _statistics[layer] = TensorStatistics.Combine(_statistics[layer], _chunkStatistics[k]);
            }
        }

        _cpu.Clear();
    }

    /// <summary>The statistics of <paramref name="length"/> elements of a dense float32 or float64 CPU tensor from
    /// <paramref name="offset"/>, read in place.</summary>
    private static TensorStatistics Measure(torch.Tensor tensor, int offset, int length) => tensor.dtype == torch.ScalarType.Float64
        ? TensorStatistics.Compute(MemoryMarshal.Cast<byte, double>(tensor.bytes).Slice(offset, length))
        : TensorStatistics.Compute(MemoryMarshal.Cast<byte, float>(tensor.bytes).Slice(offset, length));

    /// <summary>The device path's reused buffers this collector reads through.</summary>
    internal ReductionScratch Scratch => _scratch;

    /// <summary>Releases the device path's reused buffers, when this collector owns them.</summary>
    public void Dispose()
    {
        if (sharedScratch is null)
        {
            _scratch.Dispose();
        }
    }

    /// <summary>Whether the tensor's elements can be read (and written) in place as one float span.</summary>
    internal static bool IsDenseCpuFloat32(torch.Tensor tensor) => tensor.dtype == torch.ScalarType.Float32 && IsDenseCpu(tensor);

    /// <summary>A tensor reduced on its device this step: where its scalars lie in the transfer's <c>Scalars</c>; read unit
    /// by unit when <c>Units</c> &gt; 0 (<see cref="DeviceReduction.QueueUnitEntry"/>).</summary>
    private readonly record struct DeviceEntry(
        int Layer, torch.Tensor Tensor, NumericFormat SixteenBit, bool CountZeros, int First, int Chunks, long Elements, long Units = 0);

    /// <summary>Whether the tensor's elements can be read in place as one span of its dtype.</summary>
    private static bool IsDenseCpu(torch.Tensor tensor) => tensor.device_type == DeviceType.CPU && !tensor.is_sparse && tensor.is_contiguous();
}
