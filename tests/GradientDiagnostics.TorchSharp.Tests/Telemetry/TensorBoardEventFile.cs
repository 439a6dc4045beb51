using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace GradientDiagnostics.TorchSharp.Tests.Telemetry;

/// <summary>
/// Reads a TensorBoard event file without TensorBoard: TFRecord framing (little-endian u64 length, masked CRC32C of
/// the length bytes, the data, masked CRC32C of the data), each record an <c>Event</c> protobuf
/// (tensorflow/core/util/event.proto: wall_time = 1, step = 2, file_version = 3, summary = 5; Summary.value = 1;
/// Value: tag = 1, simple_value = 2, histo = 5; tensorflow/core/framework/summary.proto HistogramProto: min = 1, max = 2,
/// num = 3, sum = 4, sum_squares = 5, bucket_limit = 6, bucket = 7, the last two repeated doubles, packed or not;
/// Value.tensor = 8, a tensorflow/core/framework/tensor.proto TensorProto whose string_val = 8 holds a text summary).
/// </summary>
internal static class TensorBoardEventFile
{
    public sealed record Event(long Step, string? FileVersion, List<Value> Values);

    public sealed record Value(string Tag, float? Simple, Histogram? Histo, string? Text = null)
    {
        public double? HistogramCount => Histo?.Num;

        public double? HistogramSumSquares => Histo?.SumSquares;
    }

    /// <summary>A histogram: bucket <c>i</c> counts the values up to <c>BucketLimits[i]</c> (and above the previous limit).</summary>
    public sealed record Histogram(double Min, double Max, double Num, double Sum, double SumSquares, List<double> BucketLimits, List<double> Buckets);

    /// <summary>Reads every record, asserting both checksums of each.</summary>
    public static List<Event> Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        var events = new List<Event>();
        int at = 0;
        while (at < file.Length)
        {
            Assert.True(file.Length - at >= 12, $"truncated record header at byte {at}");
            ReadOnlySpan<byte> lengthBytes = file.AsSpan(at, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            Assert.Equal(MaskedCrc32C(lengthBytes), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8)));
            Assert.True((ulong)(file.Length - at - 16) >= length, $"truncated record data at byte {at}");
            ReadOnlySpan<byte> data = file.AsSpan(at + 12, (int)length);
            Assert.Equal(MaskedCrc32C(data), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 12 + (int)length)));
            events.Add(ParseEvent(data));
            at += 16 + (int)length;
        }

        return events;
    }

    /// <summary>CRC32C (Castagnoli), masked as TFRecord does: rotate right 15 bits, add 0xa282ead8.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    private static Event ParseEvent(ReadOnlySpan<byte> data)
    {
        long step = 0;
        string? version = null;
        var values = new List<Value>();
        foreach ((int field, ulong number, byte[]? bytes) in Fields(data))
        {
            switch (field)
            {
                case 2: step = (long)number; break;
                case 3: version = Encoding.UTF8.GetString(bytes!); break;
                case 5:
                    foreach ((int f, _, byte[]? value) in Fields(bytes!))
                    {
                        if (f == 1)
                        {
                            values.Add(ParseValue(value!));
                        }
                    }

                    break;
            }
        }

        return new Event(step, version, values);
    }

    private static Value ParseValue(byte[] data)
    {
        string tag = string.Empty;
        float? simple = null;
        Histogram? histogram = null;
        string? text = null;
        foreach ((int field, ulong number, byte[]? bytes) in Fields(data))
        {
            switch (field)
            {
                case 1: tag = Encoding.UTF8.GetString(bytes!); break;
                case 2: simple = BitConverter.Int32BitsToSingle((int)number); break;
                case 5: histogram = ParseHistogram(bytes!); break;
                case 8: text = string.Concat(Fields(bytes!).Where(f => f.Field == 8 && f.Bytes is not null).Select(f => Encoding.UTF8.GetString(f.Bytes!))); break;
            }
        }

        return new Value(tag, simple, histogram, text);
    }

    private static Histogram ParseHistogram(byte[] data)
    {
        var scalars = new double[6];
        List<double> limits = [], buckets = [];
        foreach ((int field, ulong number, byte[]? bytes) in Fields(data))
        {
            List<double>? repeated = field switch { 6 => limits, 7 => buckets, _ => null };
            if (repeated is null)
            {
                scalars[field] = BitConverter.Int64BitsToDouble((long)number);
            }
            else if (bytes is null)
            {
                repeated.Add(BitConverter.Int64BitsToDouble((long)number));
            }
            else
            {
                for (int at = 0; at < bytes.Length; at += 8)
                {
                    repeated.Add(BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(at)));
                }
            }
        }

        return new Histogram(scalars[1], scalars[2], scalars[3], scalars[4], scalars[5], limits, buckets);
    }

    /// <summary>The fields of a protobuf message: varint and fixed values as numbers, length-delimited ones as bytes.</summary>
    private static List<(int Field, ulong Number, byte[]? Bytes)> Fields(ReadOnlySpan<byte> data)
    {
        var fields = new List<(int, ulong, byte[]?)>();
        int at = 0;
        while (at < data.Length)
        {
            ulong key = Varint(data, ref at);
            int field = (int)(key >> 3);
            switch ((int)(key & 7))
            {
                case 0: fields.Add((field, Varint(data, ref at), null)); break;
                case 1: fields.Add((field, BinaryPrimitives.ReadUInt64LittleEndian(data[at..]), null)); at += 8; break;
                case 5: fields.Add((field, BinaryPrimitives.ReadUInt32LittleEndian(data[at..]), null)); at += 4; break;
                case 2:
                    int length = (int)Varint(data, ref at);
                    fields.Add((field, 0, data.Slice(at, length).ToArray()));
                    at += length;
                    break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {key & 7}");
            }
        }

        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
