using System.Text;

namespace GradientDiagnostics;

/// <summary>
/// The criteria one detector found crossed at one step, gathered so that each layer gets one alert of the detector's
/// kind, carrying all of them: a vanishing layer whose mean |g|, ratio to later layers and depth gain are all below
/// their thresholds raises one alert, not three that repeat the same causes and fixes.
/// </summary>
/// <remarks>
/// The message reads: a one-line headline, "{what} in '{layer}': {criterion}; {criterion}." with each criterion's value
/// and threshold; then each criterion's detail; then the likely causes and fixes of all criteria, merged and ranked
/// (<see cref="Diagnosis"/>). The headline criterion is the first added: detectors add theirs in a fixed order.
/// </remarks>
/// <param name="kind">The detector's kind.</param>
/// <param name="step">The step.</param>
internal sealed class AlertFindings(GradientAlertKind kind, long step)
{
    private readonly List<Group> _groups = [];

    /// <summary>Adds one crossed criterion on <paramref name="layer"/>.</summary>
    /// <param name="layer">The alert's layer: a module path, or <see cref="GradientAlert.GlobalLayerName"/>.</param>
    /// <param name="what">The headline's subject, for example "Gradients vanish"; the first finding's is used.</param>
    /// <param name="criterion">The metric, its value and threshold, at full precision.</param>
    /// <param name="clause">The headline's words for this criterion, with its value and threshold formatted.</param>
    /// <param name="description">The sentence that describes the layer (its activation, its weight scale, its depth),
    /// given once after the headline; the first finding's is used.</param>
    /// <param name="details">The evidence sentences of this criterion; each is written once per alert, so two criteria
    /// may share one.</param>
    /// <param name="diagnosis">The causes and fixes this criterion's evidence names.</param>
    /// <param name="severity">The criterion's severity; the alert takes the highest.</param>
    public void Add(string layer, string what, GradientAlertCriterion criterion, string clause, string description, IReadOnlyList<string> details,
        Diagnosis diagnosis,
        GradientAlertSeverity severity = GradientAlertSeverity.Warning)
    {
        Group? group = _groups.Find(g => g.Layer == layer);
        if (group is null)
        {
            group = new Group(layer, what, new Diagnosis());
            _groups.Add(group);
            if (description.Length > 0)
            {
                group.Details.Add(description);
            }
        }

        group.Criteria.Add(criterion);
        group.Clauses.Add(clause);
        foreach (string detail in details)
        {
            if (detail.Length > 0 && !group.Details.Contains(detail))
            {
                group.Details.Add(detail);
            }
        }

        group.Diagnosis.Merge(diagnosis);
        group.Severity = (GradientAlertSeverity)Math.Max((int)group.Severity, (int)severity);
    }

    /// <summary>Appends one alert per layer, in the order the layers were first added.</summary>
    public void AddTo(List<GradientAlert> alerts)
    {
        foreach (Group g in _groups)
        {
            var message = new StringBuilder();
            string where = g.Layer == GradientAlert.GlobalLayerName ? "in the whole network" : $"in '{g.Layer}'";
            message.Append(g.What).Append(' ').Append(where).Append(": ").AppendJoin("; ", g.Clauses).Append('.');
            foreach (string detail in g.Details)
            {
                message.Append(' ').Append(Diagnosis.Capitalize(detail.TrimEnd()));
                if (message[^1] != '.')
                {
                    message.Append('.');
                }
            }

            alerts.Add(g.Diagnosis.ToAlert(kind, g.Severity, step, g.Layer, g.Criteria, message.ToString()));
        }
    }

    private sealed record Group(string Layer, string What, Diagnosis Diagnosis)
    {
        public List<GradientAlertCriterion> Criteria { get; } = [];

        public List<string> Clauses { get; } = [];

        public List<string> Details { get; } = [];

        public GradientAlertSeverity Severity { get; set; }
    }
}
