using System.Text.Json;

namespace GradientDiagnostics;

/// <summary>Reads and writes the monitor-state document, checking its versions before anything else.</summary>
internal static class AnalyzerStateFormat
{
    /// <summary>The format version this library writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The oldest reader that can read what this library writes.</summary>
    public const int MinReaderVersion = 1;

    /// <summary>Writes the document; the stream stays open.</summary>
    public static void Write(Stream stream, AnalyzerStateDocument document)
    {
        document.FormatVersion = CurrentVersion;
        document.MinReaderVersion = MinReaderVersion;
        JsonSerializer.Serialize(stream, document, StateJsonContext.Default.AnalyzerStateDocument);
        stream.Flush();
    }

    /// <summary>Reads a document; the stream stays open.</summary>
    /// <exception cref="InvalidDataException">The document is truncated or corrupt, or needs a newer reader; the message
    /// says which (and names both versions).</exception>
    public static AnalyzerStateDocument Read(Stream stream)
    {
        try
        {
            using JsonDocument json = JsonDocument.Parse(stream);
            JsonElement root = json.RootElement;
            int version = Version(root, "formatVersion");
            int minReader = Version(root, "minReaderVersion");
            if (minReader > CurrentVersion)
            {
                throw new InvalidDataException(
                    $"The monitor state was written in format version {version}, which needs a reader of version {minReader} or newer; " +
                    $"this GradientDiagnostics reads format version {CurrentVersion}. Update GradientDiagnostics to load it.");
            }

            return root.Deserialize(StateJsonContext.Default.AnalyzerStateDocument)
                ?? throw new InvalidDataException("The monitor state is corrupt: the document is null.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The monitor state is truncated or corrupt (not a complete JSON document): {ex.Message}", ex);
        }
    }

    private static int Version(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out JsonElement value) && value.TryGetInt32(out int version) && version >= 1
            ? version
            : throw new InvalidDataException($"The monitor state is corrupt: it has no valid '{name}'.");
}
