namespace GradientDiagnostics;

/// <summary>
/// The state of one stateful part (a detector, a clipping policy, recovery) in named slots, so each part writes what it
/// has without a record type of its own. Reading a slot that is missing throws <see cref="InvalidDataException"/> naming
/// the part and the slot.
/// </summary>
internal sealed class ComponentState
{
    public Dictionary<string, GateState>? Gates { get; set; }

    public Dictionary<string, MovingState>? Moving { get; set; }

    public Dictionary<string, List<double>>? Series { get; set; }

    public Dictionary<string, double>? Numbers { get; set; }

    public Dictionary<string, long>? Counts { get; set; }

    public Dictionary<string, bool>? Flags { get; set; }

    /// <summary>Per layer name, for parts that keep state per layer (dead units).</summary>
    public Dictionary<string, UnitWindowState>? UnitWindows { get; set; }

    /// <summary>The parts of a composite, in order (a clipping chain's policies).</summary>
    public List<ComponentState>? Parts { get; set; }

    public ComponentState With(string name, AlertGate gate) => Put(Gates ??= [], name, gate.SaveState());

    public ComponentState With(string name, ExponentialMovingStatistics moving) => Put(Moving ??= [], name, moving.SaveState());

    public ComponentState With(string name, IEnumerable<double> series) => Put(Series ??= [], name, [.. series]);

    public ComponentState With(string name, double number) => Put(Numbers ??= [], name, number);

    public ComponentState With(string name, long count) => Put(Counts ??= [], name, count);

    public ComponentState With(string name, bool flag) => Put(Flags ??= [], name, flag);

    public void Load(string name, AlertGate gate) => gate.LoadState(Slot(Gates, name));

    public void Load(string name, ExponentialMovingStatistics moving) => moving.LoadState(Slot(Moving, name));

    public List<double> SeriesOf(string name) => Slot(Series, name);

    public double NumberOf(string name) => Slot(Numbers, name);

    public long CountOf(string name) => Slot(Counts, name);

    public bool FlagOf(string name) => Flags is not null && Flags.TryGetValue(name, out bool flag)
        ? flag
        : throw new InvalidDataException($"The saved state has no '{name}' entry where this monitor keeps one.");

    private ComponentState Put<T>(Dictionary<string, T> slots, string name, T value)
    {
        slots[name] = value;
        return this;
    }

    private static T Slot<T>(Dictionary<string, T>? slots, string name) =>
        slots is not null && slots.TryGetValue(name, out T? value) && value is not null
            ? value
            : throw new InvalidDataException($"The saved state has no '{name}' entry where this monitor keeps one.");
}
