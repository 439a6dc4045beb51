using System.Diagnostics;

namespace GradientDiagnostics;

/// <summary>
/// Where the library reports its own failures, in the manner of Serilog's <c>SelfLog</c>: a logger that threw, an
/// <c>AlertRaised</c> subscriber that threw, a telemetry output switched off after a failure, a layer-output probe that
/// failed in backward. None of these is ever thrown into the training loop; each is reported here once per monitor and
/// fault (a subscriber that throws on every alert is reported once, not once per alert).
/// </summary>
/// <remarks>
/// Off by default, when messages go to <see cref="Trace.TraceWarning(string)"/> (silent unless a trace listener is
/// configured). <see cref="Enable"/> sends them to a callback instead; it may be called from the training loop's thread
/// of any monitor, so a callback shared by several training threads must be thread-safe. A callback that throws is
/// ignored, so the self-log cannot break training either.
/// </remarks>
public static class GradientSelfLog
{
    private static volatile Action<string>? s_output;

    /// <summary>Sends the library's self-diagnostics to <paramref name="output"/>, replacing any earlier callback.</summary>
    /// <param name="output">Receives one line of text per fault, prefixed with <c>GradientDiagnostics:</c> and ending with
    /// the exception, when there is one.</param>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    public static void Enable(Action<string> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        s_output = output;
    }

    /// <summary>Stops calling the callback set by <see cref="Enable"/>; messages go to <see cref="Trace"/> again.</summary>
    public static void Disable() => s_output = null;

    /// <summary>Reports one fault of the library or of an adapter built on it (a hook that threw, an output that
    /// failed); never throws. Adapters call it for their own faults, so every self-diagnostic goes to one place.</summary>
    /// <param name="message">What failed and what the library did about it; prefixed with <c>GradientDiagnostics:</c>.</param>
    /// <param name="exception">The exception, when there is one; appended to the line.</param>
    public static void Write(string message, Exception? exception = null)
    {
        string line = exception is null ? $"GradientDiagnostics: {message}" : $"GradientDiagnostics: {message} {exception}";
        // The self-log is the last resort: a callback that throws is ignored.
        _ = FaultIsolation.Run((Output: s_output, Line: line), static s =>
        {
            if (s.Output is Action<string> output)
            {
                output(s.Line);
            }
            else
            {
                Trace.TraceWarning(s.Line);
            }
        });
    }
}
