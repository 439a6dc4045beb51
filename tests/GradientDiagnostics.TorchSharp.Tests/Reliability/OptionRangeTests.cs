using System.Globalization;
using System.Reflection;

namespace GradientDiagnostics.TorchSharp.Tests.Reliability;

/// <summary>Issue 9 §3: every numeric option of <see cref="GradientMonitorOptions"/> and its nested option objects,
/// found by reflection so none is missed, is rejected at attach when out of range, naming its path.</summary>
public sealed class OptionRangeTests
{
    /// <summary>One value just outside each option's documented range (a fraction above 1, a window of 0, a ratio
    /// at its excluded bound …). Every option must appear: <see cref="The_table_covers_every_numeric_option"/>.</summary>
    private static readonly Dictionary<string, double[]> s_boundaries = new()
    {
        ["Vanishing.MeanMagnitudeThreshold"] = [0],
        ["Vanishing.RelativeNormThreshold"] = [0, 1, 1.5],
        ["Vanishing.Persistence"] = [0, 6],
        ["Vanishing.PersistenceWindow"] = [0, 65],
        ["Vanishing.CooldownSteps"] = [-1],
        ["Exploding.GlobalNormThreshold"] = [0],
        ["Exploding.RelativeNormThreshold"] = [1, 0.5],
        ["Exploding.SpikeZScoreThreshold"] = [0],
        ["Exploding.SpikeMinFactorOverMean"] = [0.5],
        ["Exploding.SpikeEmaDecay"] = [0, 1],
        ["Exploding.SpikeWarmupSteps"] = [1, 100_001],
        ["Exploding.SpikeFactorOverEarlyMax"] = [1],
        ["Exploding.EarlySteps"] = [0, 100_001],
        ["Exploding.Persistence"] = [0],
        ["Exploding.PersistenceWindow"] = [0],
        ["Exploding.CooldownSteps"] = [-1],
        ["NonFinite.CooldownSteps"] = [-1],
        ["Saturation.SaturatedFractionThreshold"] = [0, 1, 1.01],
        ["Saturation.Persistence"] = [0],
        ["Saturation.PersistenceWindow"] = [0],
        ["Saturation.CooldownSteps"] = [-1],
        ["DeadUnits.DeadFractionThreshold"] = [0, 1, 1.01],
        ["DeadUnits.Window"] = [0, 100_001],
        ["DeadUnits.CooldownSteps"] = [-1],
        ["PoorInitialization.InitialSteps"] = [0, 100_001],
        ["PoorInitialization.ActivationVarianceRatioThreshold"] = [1],
        ["PoorInitialization.ActivationVarianceRatioPerLayerThreshold"] = [1],
        ["PoorInitialization.WeightStdFactor"] = [1],
        ["PoorInitialization.CooldownSteps"] = [-1],
        ["UpdateRatio.MinRatio"] = [0],
        ["UpdateRatio.MaxRatio"] = [1e-9], // below the default MinRatio 1e-8
        ["UpdateRatio.TypicalRatio"] = [0],
        ["UpdateRatio.SoftBandFactor"] = [1],
        ["UpdateRatio.Persistence"] = [0],
        ["UpdateRatio.PersistenceWindow"] = [0],
        ["UpdateRatio.CooldownSteps"] = [-1],
        ["Precision.UnderflowFractionThreshold"] = [0, 1],
        ["Precision.LostUpdateFractionThreshold"] = [0, 1.01],
        ["Precision.Persistence"] = [0],
        ["Precision.PersistenceWindow"] = [0],
        ["Precision.CooldownSteps"] = [-1],
        ["PersistentClipping.Persistence"] = [0],
        ["PersistentClipping.PersistenceWindow"] = [0, 65],
        ["PersistentClipping.CooldownSteps"] = [-1],
        ["Telemetry.MaxPerLayerMetricLayers"] = [1],
        ["Telemetry.SummaryInterval"] = [-1],
        ["Telemetry.ExportInterval"] = [0],
        ["Report.HistoryPoints"] = [15],
        ["Report.HeatmapColumns"] = [15],
        ["Report.MaxAlerts"] = [1],
        ["FullStatisticsInterval"] = [0, 1_000_001],
        ["ThroughTime.HorizonFraction"] = [0, 1],
        ["ThroughTime.MaxSequences"] = [0, 4097],
        ["ThroughTime.Vanishing.HorizonShareThreshold"] = [0, 1.01],
        ["ThroughTime.Vanishing.Persistence"] = [0],
        ["ThroughTime.Vanishing.PersistenceWindow"] = [0],
        ["ThroughTime.Vanishing.CooldownSteps"] = [-1],
        ["ThroughTime.Exploding.GrowthThreshold"] = [1],
        ["ThroughTime.Exploding.Persistence"] = [0],
        ["ThroughTime.Exploding.PersistenceWindow"] = [0],
        ["ThroughTime.Exploding.CooldownSteps"] = [-1],
    };

    public static TheoryData<string> NumericOptions => [.. NumericOptionPaths()];

    public static TheoryData<string, double> Boundaries
    {
        get
        {
            var data = new TheoryData<string, double>();
            foreach ((string path, double[] values) in s_boundaries)
            {
                foreach (double value in values)
                {
                    data.Add(path, value);
                }
            }

            return data;
        }
    }

    [Fact]
    public void The_table_covers_every_numeric_option()
    {
        string[] discovered = [.. NumericOptionPaths().Order(StringComparer.Ordinal)];
        Assert.True(discovered.Length >= 40, $"reflection found only {discovered.Length} options");
        Assert.Equal(discovered, s_boundaries.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Reliability_doc_states_the_computed_option_and_case_counts()
    {
        // The counts are computed here, never by hand: docs/reliability.md must quote these figures.
        string[] options = [.. NumericOptionPaths()];
        int doubles = options.Count(p => Resolve(new GradientMonitorOptions(), p).Property.PropertyType == typeof(double));
        int cases = (4 * doubles) + (2 * (options.Length - doubles)) + s_boundaries.Values.Sum(v => v.Length);
        string doc = File.ReadAllText(Path.Combine(GradientDiagnostics.Testing.RepositoryRoot.Path, "docs", "reliability.md"));
        string expected = $"{options.Length} numeric options ({doubles} double, {options.Length - doubles} integer)";
        Assert.True(doc.Contains(expected, StringComparison.Ordinal) && doc.Contains($": {cases} cases", StringComparison.Ordinal),
            $"docs/reliability.md must say \"{expected}\" and \": {cases} cases\"");
    }

    [Theory]
    [MemberData(nameof(NumericOptions))]
    public void NaN_infinities_and_negative_values_are_rejected_at_attach_naming_the_option(string path)
    {
        bool isDouble = Resolve(new GradientMonitorOptions(), path).Property.PropertyType == typeof(double);
        double[] invalid = isDouble ? [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1] : [-1, int.MinValue];
        foreach (double value in invalid)
        {
            AssertRejected(path, value);
        }
    }

    [Theory]
    [MemberData(nameof(Boundaries))]
    public void A_value_just_outside_the_documented_range_is_rejected_at_attach_naming_the_option(string path, double value) =>
        AssertRejected(path, value);

    /// <summary>The one nullable numeric option, which the reflection above does not set.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public void Through_time_interval_out_of_range_is_rejected_at_attach_naming_the_option(int interval)
    {
        using var model = torch.nn.Linear(2, 1);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            model.AttachGradientMonitor(o => o.ThroughTime.Interval = interval));
        Assert.Equal("ThroughTime.Interval", error.ParamName);
    }

    [Fact]
    public void Default_options_are_accepted()
    {
        using var model = torch.nn.Linear(2, 1);
        using GradientMonitor monitor = model.AttachGradientMonitor();
        Assert.Single(monitor.LayerNames);
    }

    private static void AssertRejected(string path, double value)
    {
        using var model = torch.nn.Linear(2, 1);
        ArgumentOutOfRangeException error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            model.AttachGradientMonitor(o => Set(o, path, value)));
        Assert.Equal(path, error.ParamName);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    private static void Set(GradientMonitorOptions options, string path, double value)
    {
        (object owner, PropertyInfo property) = Resolve(options, path);
        object converted = property.PropertyType == typeof(double) ? value : Convert.ChangeType(value, property.PropertyType, CultureInfo.InvariantCulture);
        property.SetValue(owner, converted);
    }

    private static (object Owner, PropertyInfo Property) Resolve(object root, string path)
    {
        string[] parts = path.Split('.');
        object owner = root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            owner = owner.GetType().GetProperty(parts[i])!.GetValue(owner)!;
        }

        return (owner, owner.GetType().GetProperty(parts[^1])!);
    }

    /// <summary>Every settable int, long, float or double property, walking into the nested option objects.</summary>
    private static IEnumerable<string> NumericOptionPaths(Type? type = null, string prefix = "")
    {
        foreach (PropertyInfo property in (type ?? typeof(GradientMonitorOptions)).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            Type t = property.PropertyType;
            if (t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(float))
            {
                if (property.SetMethod?.IsPublic == true)
                {
                    yield return prefix + property.Name;
                }
            }
            else if (t.Namespace == typeof(GradientMonitorOptions).Namespace && t.Name.EndsWith("Options", StringComparison.Ordinal) && property.SetMethod is null)
            {
                foreach (string nested in NumericOptionPaths(t, $"{prefix}{property.Name}."))
                {
                    yield return nested;
                }
            }
        }
    }
}
