using System.Runtime.InteropServices;
using System.Text;

namespace GradientDiagnostics.TorchSharp;

/// <summary>
/// The master-weights file: "GDMW", the format version (int32), the entry count (int32), then per entry the parameter's
/// name (a length-prefixed UTF-8 string), its rank (int32), its sizes (int64 each), its element count (int64) and its
/// float32 values; all little-endian. Read whole before anything is applied, so a bad file changes nothing.
/// </summary>
internal static class MasterWeightsFile
{
    private const int Magic = 0x574D4447; // "GDMW"
    private const int Version = 1;

    /// <summary>Writes the entries; the stream stays open. Call inside a dispose scope (a CPU copy is made per entry).</summary>
    public static void Write(Stream stream, IEnumerable<(string Name, torch.Tensor Master)> masters)
    {
        List<(string Name, torch.Tensor Master)> entries = [.. masters];
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(entries.Count);
        foreach ((string name, torch.Tensor master) in entries)
        {
            writer.Write(name);
            writer.Write(master.shape.Length);
            foreach (long size in master.shape)
            {
                writer.Write(size);
            }

            torch.Tensor values = master.detach().to_type(torch.ScalarType.Float32).cpu().contiguous();
            writer.Write(values.numel());
            writer.Write(values.bytes);
        }
    }

    /// <summary>Reads every entry by name; the stream stays open.</summary>
    /// <exception cref="InvalidDataException">The file is not a master-weights file, is of a newer version, or is truncated
    /// or corrupt; the message says which.</exception>
    public static Dictionary<string, (long[] Shape, float[] Values)> Read(Stream stream)
    {
        try
        {
            using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            if (reader.ReadInt32() != Magic)
            {
                throw new InvalidDataException("The file is not a master weights file (it does not start with GDMW).");
            }

            int version = reader.ReadInt32();
            if (version > Version)
            {
                throw new InvalidDataException($"The master weights file has format version {version}; this GradientDiagnostics reads version {Version}.");
            }

            int count = reader.ReadInt32();
            var saved = new Dictionary<string, (long[], float[])>();
            for (int i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                long[] shape = new long[reader.ReadInt32()];
                for (int d = 0; d < shape.Length; d++)
                {
                    shape[d] = reader.ReadInt64();
                }

                float[] values = new float[checked((int)reader.ReadInt64())];
                reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
                saved[name] = (shape, values);
            }

            return saved;
        }
        catch (Exception ex) when (ex is EndOfStreamException or OverflowException or ArgumentException or OutOfMemoryException
            or IOException and not FileNotFoundException)
        {
            throw new InvalidDataException($"The master weights file is truncated or corrupt: {ex.Message}", ex);
        }
    }
}
