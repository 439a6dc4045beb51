using TorchSharp.Modules;
using Tensor = TorchSharp.torch.Tensor;

namespace GradientDiagnostics.TorchSharp.ThroughTime;

/// <content>The diagnostic pass after backward, and the profiles from its transferred norms.</content>
internal sealed partial class FusedModuleProbe
{
    public void Queue(HostTransfer transfer)
    {
        _pass = null;
        if (_capture?.Outputs is null)
        {
            return;
        }

        _unit ??= RnnNonlinearity.OfFused((RNN)_module, _parameters);
        _parameters.Read();
        if (_parameters.HasProjection)
        {
            _pass = new Pass(0, 0, "an LSTM with a projection (proj_size) is not modeled by the step-by-step re-run");
            return;
        }

        using var grad = torch.enable_grad();
        _pass = Run(transfer);
    }

    public RecurrentTimeProfile[] Complete(ReadOnlySpan<double> host, double horizonFraction)
    {
        string? reason = _pass?.Reason ?? (_pass is null
            ? "no forward call through call(Tensor, …) under autograd on this step: "
                + "a PackedSequence call bypasses forward hooks in TorchSharp 0.107, as does a forward() call"
            : null);
        if (reason is null && host[_pass!.DifferenceOffset] is double difference && !(difference <= ReproductionTolerance))
        {
            reason = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the step-by-step re-run differs from the module's output by {difference:G3} (relative; tolerance {ReproductionTolerance:G3}): ")
                + "inter-layer dropout in training mode, or a computation the re-run does not model";
        }

        var profiles = new List<RecurrentTimeProfile>();
        for (int layer = 0; layer < _parameters.Layers; layer++)
        {
            for (int direction = 0; direction < _parameters.Directions; direction++)
            {
                var profile = new RecurrentTimeProfile
                {
                    Layer = _path, Unit = _unit ?? "RNN", StackedLayer = layer, Reverse = direction == 1,
                    SequenceCount = _pass?.Sequences ?? 0, Replayed = true,
                };
                if (reason is not null)
                {
                    profiles.Add(profile.AsNotMeasured(reason, _pass?.Length ?? 0));
                    continue;
                }

                (RecurrenceSteps steps, RecurrentWeightEvidence.Pending weights) = _pass!.Layers[(layer * _parameters.Directions) + direction];
                (double[] norms, double[] consumed) = steps.Read(host);
                profiles.Add(RecurrentWeightEvidence.Apply(host, weights, profile).WithStepNorms(norms, consumed, horizonFraction));
            }
        }

        return [.. profiles];
    }

    // In the caller's dispose scope, which frees every tensor of the pass once the transfer is read.
    private Pass Run(HostTransfer transfer)
    {
        Capture capture = _capture!;
        int layers = _parameters.Layers, directions = _parameters.Directions;
        bool batched = capture.Input.dim() == 3;
        Tensor input = Sequence(capture.Input, batched);
        int length = (int)input.shape[0], sequences = (int)Math.Min(_maxSequences, input.shape[1]);
        input = input.narrow(1, 0, sequences);
        Tensor output = Sequence(capture.Outputs![0], batched).narrow(1, 0, sequences).detach();
        Tensor? outputGrad = Gradient(capture.Outputs[0], g => Sequence(g, batched).narrow(1, 0, sequences));
        Tensor?[] lastGrads = [.. capture.Outputs.Skip(1).Select(o => Gradient(o, g => States(g, batched).narrow(1, 0, sequences)))];
        if (outputGrad is null && lastGrads.All(g => g is null))
        {
            return new Pass(length, sequences, "no gradient reached the module's output, h_n or c_n on this step");
        }

        long hidden = _parameters.Of(0, reverse: false).Hh.shape[1];
        Tensor[] initial = _parameters.Unit == "LSTM" ? new Tensor[2] : new Tensor[1];
        for (int i = 0; i < initial.Length; i++)
        {
            initial[i] = capture.Initial.Length > i
                ? States(capture.Initial[i], batched).narrow(1, 0, sequences)
                : torch.zeros([layers * directions, sequences, hidden], input.dtype, input.device);
        }

        var runs = new (RecurrenceSteps, RecurrentWeightEvidence.Pending)[layers * directions];
        Tensor surrogate = torch.zeros(1, input.dtype, input.device);
        Tensor top = input;
        for (int layer = 0; layer < layers; layer++)
        {
            var outputs = new Tensor[directions];
            for (int d = 0; d < directions; d++)
            {
                int index = (layer * directions) + d;
                var steps = new RecurrenceSteps(length);
                var w = _parameters.Of(layer, reverse: d == 1);
                (outputs[d], Tensor[] last) = FusedReplay.Layer(_unit!, top, [.. initial.Select(s => s[index])], w, reverse: d == 1, steps);
                for (int part = 0; part < last.Length; part++)
                {
                    if (lastGrads.ElementAtOrDefault(part) is Tensor g)
                    {
                        surrogate += (last[part] * g[index]).sum();
                    }
                }

                runs[index] = (steps, default);
            }

            top = directions == 1 ? outputs[0] : torch.cat(outputs, -1);
        }

        if (outputGrad is not null)
        {
            surrogate += (top * outputGrad).sum();
        }

        surrogate.backward();
        using var noGrad = torch.no_grad();
        Tensor difference = (top.detach() - output).abs().max().to(torch.ScalarType.Float64) / (output.abs().max().to(torch.ScalarType.Float64) + 1e-30);
        int differenceOffset = transfer.Add(difference.reshape(1));
        for (int index = 0; index < runs.Length; index++)
        {
            runs[index].Item1.Queue(transfer);
            var w = _parameters.Of(index / directions, reverse: index % directions == 1);
            runs[index].Item2 = RecurrentWeightEvidence.Queue(transfer, _unit!, w.Hh, w.BiasIh, w.BiasHh);
        }

        return new Pass(length, sequences, null) { Layers = runs, DifferenceOffset = differenceOffset };
    }

    // (batch, seq, feature) or an unbatched (seq, feature) input, as (seq, batch, feature).
    private Tensor Sequence(Tensor t, bool batched) => !batched ? t.unsqueeze(1) : _parameters.BatchFirst ? t.transpose(0, 1) : t;

    // h_0 / h_n / c_n: (layers × directions, batch, hidden), or unbatched (layers × directions, hidden).
    private static Tensor States(Tensor t, bool batched) => batched ? t : t.unsqueeze(1);

    private static Tensor? Gradient(Tensor retained, Func<Tensor, Tensor> layout) => retained.grad is Tensor g ? layout(g).detach() : null;

    /// <summary>One measuring step's diagnostic pass: what it queued, or why it could not run.</summary>
    private sealed record Pass(int Length, int Sequences, string? Reason)
    {
        public (RecurrenceSteps Steps, RecurrentWeightEvidence.Pending Weights)[] Layers { get; init; } = [];

        public int DifferenceOffset { get; init; }
    }
}
