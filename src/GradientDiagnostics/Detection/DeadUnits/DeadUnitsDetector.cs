namespace GradientDiagnostics;

/// <summary>Fires when more than half (by default) of a ReLU or GELU layer's units were never active over the window.</summary>
internal sealed class DeadUnitsDetector(DeadUnitsOptions options, int layerCount) : IGradientDetector
{
    private readonly AlertGate _gate = new(options);
    private readonly UnitActivityWindow?[] _windows = new UnitActivityWindow?[layerCount];

    public void Detect(StepEvidence evidence, List<GradientAlert> alerts)
    {
        int worst = -1, judged = 0, dying = 0;
        double worstFraction = 0;
        for (int i = 0; i < evidence.Layers.Length && i < _windows.Length; i++)
        {
            // Leaky ReLU (and its kin in ActivationKind.LeakyReLU) keeps a gradient for negative inputs, so its units
            // cannot die; ReLU passes none and GELU almost none (GELU'(x) ≈ 0 below x ≈ −3).
            if (evidence.Descriptors[i].FollowingActivation is not (ActivationKind.ReLU or ActivationKind.GELU) ||
                evidence.Layers[i].Activations is not { UnitActiveFraction.IsEmpty: false } activations)
            {
                continue;
            }

            UnitActivityWindow window = _windows[i] ??= new UnitActivityWindow(options.Window);
            window.Record(activations.UnitActiveFraction.Span);
            if (!window.IsFull)
            {
                continue;
            }

            judged++;
            double fraction = window.DeadFraction();
            if (fraction > options.DeadFractionThreshold)
            {
                dying++;
                if (fraction > worstFraction)
                {
                    (worst, worstFraction) = (i, fraction);
                }
            }
        }

        if (judged == 0 || !_gate.Observe(evidence.Step, dying > 0))
        {
            return;
        }

        LayerDescriptor layer = evidence.Descriptors[worst];
        InitializationScale? scale = evidence.WeightScale(worst);
        int units = _windows[worst]!.UnitCount;
        Diagnosis diagnosis = new Diagnosis()
            .AddInitScale(scale, evidence.Layers.Length)
            .Add(GradientAlertCause.LearningRateTooHigh,
                "a learning rate too high, so one large update pushed the units' pre-activations (or biases) permanently negative",
                GradientAlertFix.LowerLearningRate, "lower the learning rate or add warm-up")
            .Add(GradientAlertCause.DeadReLU, "ReLU units get no gradient once they are off for every input, so they cannot recover",
                GradientAlertFix.SwitchActivation, "use LeakyReLU or GELU, or normalization (BatchNorm) before the activation, and He init");
        var findings = new AlertFindings(GradientAlertKind.DeadUnits, evidence.Step);
        findings.Add(layer.Name, "Units are dead",
            new GradientAlertCriterion(GradientMetricNames.DeadUnitFraction, worstFraction, options.DeadFractionThreshold),
            $"{MessageNumber.Percent(worstFraction)} of its {units} units were never active over the last {options.Window} measured steps (threshold " +
                $"{MessageNumber.Percent(options.DeadFractionThreshold)})",
            $"{Diagnosis.DescribeLayer(layer, scale)} is layer {worst + 1} of {evidence.Layers.Length} from the input",
            [$"a unit that is never active passes no gradient to its weights; {dying} of {judged} measured layers are above " +
                $"{MessageNumber.Percent(options.DeadFractionThreshold)}"],
            diagnosis);
        findings.AddTo(alerts);
    }

    public ComponentState SaveState(IReadOnlyList<string> layerNames)
    {
        ComponentState state = new ComponentState().With("gate", _gate);
        state.UnitWindows = [];
        for (int i = 0; i < _windows.Length; i++)
        {
            if (_windows[i] is UnitActivityWindow window)
            {
                state.UnitWindows[layerNames[i]] = window.SaveState();
            }
        }

        return state;
    }

    public void LoadState(ComponentState state, IReadOnlyList<string> layerNames)
    {
        state.Load("gate", _gate);
        for (int i = 0; i < _windows.Length; i++)
        {
            UnitWindowState? saved = state.UnitWindows?.GetValueOrDefault(layerNames[i]);
            _windows[i] = saved is null ? null : new UnitActivityWindow(options.Window);
            _windows[i]?.LoadState(saved!);
        }
    }
}
