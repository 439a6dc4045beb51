using System.Text.Json.Serialization;

namespace GradientDiagnostics;

/// <summary>Source-generated (reflection-free, trimming-safe) serialization of the JSON Lines run format.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(RunRecord))]
internal sealed partial class RunJsonContext : JsonSerializerContext
{
}
