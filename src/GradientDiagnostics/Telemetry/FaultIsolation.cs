namespace GradientDiagnostics.Adapters;

/// <summary>The one place the core catches every exception: code it does not own (a logger, an <c>AlertRaised</c>
/// subscriber, a telemetry output, the self-log callback) runs through it, so none of it can break the training loop.
/// Callers decide what to report; nothing here logs. An adapter runs the user code it calls itself (its logger) through
/// it too, and reports what it returns to <see cref="GradientSelfLog.Write"/> when that is the right place.</summary>
public static class FaultIsolation
{
    /// <summary>Runs <paramref name="action"/> on <paramref name="state"/> (a static lambda and a value-tuple state
    /// allocate nothing) and returns the exception it threw, or null.</summary>
    /// <typeparam name="TState">What the action needs, passed without a closure.</typeparam>
    /// <param name="state">The action's state.</param>
    /// <param name="action">The code the library does not own.</param>
    /// <returns>The exception <paramref name="action"/> threw, or null when it returned normally.</returns>
    public static Exception? Run<TState>(TState state, Action<TState> action)
    {
        try
        {
            action(state);
            return null;
        }
#pragma warning disable CA1031 // By design: whatever user code throws must stay out of the training loop; callers report it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex;
        }
    }
}
