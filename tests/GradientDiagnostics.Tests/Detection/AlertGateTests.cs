namespace GradientDiagnostics.Tests.Detection;

public sealed class AlertGateTests
{
    [Fact]
    public void Fires_only_after_k_of_the_last_n_steps()
    {
        var gate = new AlertGate(new VanishingOptions { Persistence = 3, PersistenceWindow = 5, CooldownSteps = 0 });
        bool[] conditions = [true, false, true, false, false, false, true, true, true];
        bool[] fired = [.. conditions.Select((c, step) => gate.Observe(step, c))];

        Assert.Equal([false, false, false, false, false, false, false, false, true], fired);
    }

    [Fact]
    public void Stays_quiet_during_cooldown_then_fires_again()
    {
        var gate = new AlertGate(new ExplodingOptions { CooldownSteps = 3 });
        bool[] fired = [.. Enumerable.Range(0, 9).Select(step => gate.Observe(step, true))];

        Assert.Equal([true, false, false, false, true, false, false, false, true], fired);
    }

    [Fact]
    public void Options_without_persistence_fire_on_the_first_step_the_condition_holds()
    {
        var gate = new AlertGate(new DeadUnitsOptions { CooldownSteps = 2 });
        bool[] fired = [.. new[] { false, true, true, true, true }.Select((c, step) => gate.Observe(step, c))];

        Assert.Equal([false, true, false, false, true], fired);
    }

    [Fact]
    public void A_new_source_always_fires_and_the_same_source_waits_for_the_cooldown()
    {
        var gate = new AlertGate(new NonFiniteOptions { CooldownSteps = 2 });
        string?[] sources = ["a", "a", "b", "b", "b", "b", null, "b"];
        bool[] fired = [.. sources.Select((s, step) => gate.ObserveSource(step, s))];

        Assert.Equal([true, false, true, false, false, true, false, true], fired);
    }
}
