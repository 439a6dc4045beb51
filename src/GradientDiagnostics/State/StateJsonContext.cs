using System.Text.Json.Serialization;

namespace GradientDiagnostics;

/// <summary>Source-generated (reflection-free, trimming-safe) serialization of the monitor-state format.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    IgnoreReadOnlyProperties = true,
    UseStringEnumConverter = true,
    WriteIndented = true)]
[JsonSerializable(typeof(AnalyzerStateDocument))]
internal sealed partial class StateJsonContext : JsonSerializerContext
{
}
