using System.Runtime.InteropServices;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// The 16-bit half of <see cref="TensorStatisticsCollector"/>'s pass: per layer, the format of its tensors and the
/// statistics of its float16 / bfloat16 ones as stored. Dense CPU tensors are read in place on the calling thread, each
/// element widened to float32 once (<see cref="SixteenBitStatistics"/>); the device ones arrive from the host transfer.
/// </summary>
internal sealed class SixteenBitLayers(int layerCount)
{
    private readonly List<(int Layer, torch.Tensor Tensor, NumericFormat Format)> _cpu = [];
    private readonly SixteenBitStatistics?[] _statistics = new SixteenBitStatistics?[layerCount];
    private readonly NumericFormat[] _formats = new NumericFormat[layerCount];
    private readonly bool[] _formatSeen = new bool[layerCount];

    /// <summary>Per layer, the statistics of its 16-bit tensors as stored; null for a layer without one.</summary>
    public ReadOnlySpan<SixteenBitStatistics?> Statistics => _statistics;

    /// <summary>Per layer, the format of its tensors this step (<see cref="NumericFormat.Unknown"/> when none or mixed).</summary>
    public ReadOnlySpan<NumericFormat> Formats => _formats;

    public void Begin()
    {
        Array.Clear(_statistics);
        Array.Clear(_formats);
        Array.Clear(_formatSeen);
        _cpu.Clear();
    }

    /// <summary>Records a tensor's format for its layer: a layer whose tensors differ in format is Unknown.</summary>
    public void NoteFormat(int layer, NumericFormat format)
    {
        _formats[layer] = _formatSeen[layer] && _formats[layer] != format ? NumericFormat.Unknown : format;
        _formatSeen[layer] = true;
    }

    /// <summary>Queues a dense CPU 16-bit tensor, read in <see cref="MeasureCpu"/>: it must stay alive until then.</summary>
    public void QueueCpu(int layer, torch.Tensor tensor, NumericFormat format) => _cpu.Add((layer, tensor, format));

    /// <summary>Adds a 16-bit tensor's statistics (read on its device) to its layer.</summary>
    public void Add(int layer, in SixteenBitStatistics statistics) =>
        _statistics[layer] = _statistics[layer] is SixteenBitStatistics before ? SixteenBitStatistics.Combine(before, statistics) : statistics;

    /// <summary>Reads the queued CPU tensors in place and adds them to their layers, and their widened values to
    /// <paramref name="layers"/>' statistics.</summary>
    public void MeasureCpu(TensorStatistics[] layers)
    {
        foreach ((int layer, torch.Tensor tensor, NumericFormat format) in _cpu)
        {
            Span<byte> bytes = tensor.bytes;
            SixteenBitStatistics statistics = format == NumericFormat.Float16
                ? SixteenBitStatistics.Compute(MemoryMarshal.Cast<byte, Half>(bytes))
                : SixteenBitStatistics.ComputeBFloat16(MemoryMarshal.Cast<byte, ushort>(bytes));
            layers[layer] = TensorStatistics.Combine(layers[layer], statistics.Values);
            Add(layer, statistics);
        }

        _cpu.Clear();
    }
}
