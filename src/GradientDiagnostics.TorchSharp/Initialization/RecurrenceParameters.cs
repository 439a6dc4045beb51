using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>The parameters of one recurrence of a recurrent module: a cell, or one stacked layer and direction of a fused
/// module (<c>weight_hh_l{k}</c>, <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c>, with <c>_reverse</c> for the backward one).</summary>
/// <param name="Suffix">The parameter-name suffix (<c>_l1_reverse</c>; empty for a cell).</param>
/// <param name="WeightHh">The recurrent weight, [gates·H, H].</param>
/// <param name="BiasIh">The input-side bias, [gates·H]; null when the module has no biases.</param>
/// <param name="BiasHh">The recurrent-side bias, [gates·H]; null when the module has no biases.</param>
internal sealed record RecurrenceParameters(string Suffix, Parameter WeightHh, Parameter? BiasIh, Parameter? BiasHh)
{
    /// <summary>The hidden size H.</summary>
    public long HiddenSize => WeightHh.shape[1];
}
