using System.Text.Json;

namespace GradientDiagnostics;

/// <summary>Where a resumed run continues an existing JSON Lines file: after the header and the last complete step line
/// before the resumed step.</summary>
internal static class JsonLinesResumePoint
{
    /// <summary>The length to keep: the end of the last line to keep (0 when the file has no valid header).</summary>
    public static long Find(Stream stream, long nextStep)
    {
        stream.Seek(0, SeekOrigin.Begin);
        byte[] content = new byte[stream.Length];
        stream.ReadExactly(content);
        long keep = 0;
        int start = 0;
        while (start < content.Length)
        {
            int end = Array.IndexOf(content, (byte)'\n', start);
            if (end < 0)
            {
                break; // a half-written last line
            }

            RunRecord? record = Parse(content.AsSpan(start, end - start));
            bool kept = keep == 0 ? record is RunHeaderRecord : record is StepRecord step && step.Step < nextStep;
            if (!kept)
            {
                break;
            }

            keep = end + 1;
            start = end + 1;
        }

        return keep;
    }

    private static RunRecord? Parse(ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, RunJsonContext.Default.RunRecord);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
