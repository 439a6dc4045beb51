namespace GradientDiagnostics;

/// <summary>One detector: looks at a step's evidence and adds the alerts it decides to raise.</summary>
internal interface IGradientDetector
{
    void Detect(StepEvidence evidence, List<GradientAlert> alerts);
}
