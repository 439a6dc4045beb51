using GradientDiagnostics.TorchSharp.Tests.Telemetry;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests.MixedPrecision;

/// <summary>The loss scale reaches TensorBoard (issue 21, item 3).</summary>
public sealed class LossScaleTelemetryTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-mp-tensorboard-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void TensorBoard_gets_the_loss_scale_of_every_exported_step_including_an_overflow()
    {
        using var model = SixteenBitRun.Model(51).half();
        var results = new List<GradientStepResult>();
        using (GradientMonitor monitor = model.AttachGradientMonitor(o => (o.Telemetry.TensorBoardLogDirectory, o.Telemetry.ExportInterval) = (_directory, 1)))
        {
            MixedPrecisionTraining mp = monitor.EnableMixedPrecision(o => o.LossScaling = LossScaling.Dynamic(initialScale: 4096, growthInterval: 2));
            for (int step = 0; step < 5; step++)
            {
                using var scope = NewDisposeScope();
                GradientUnitTests.Backward(model, mp, 51);
                if (step == 3)
                {
                    LossScalerTests.InjectInfinity(model);
                }

                results.Add(monitor.Step());
            }
        }

        var scales = TensorBoardEventFile.Read(Directory.GetFiles(_directory).Single()).Skip(1)
            .SelectMany(e => e.Values.Where(v => v.Tag == "gradients/loss_scale").Select(v => (e.Step, v.Simple))).ToList();
        Assert.Equal(results.Select(r => (r.Step, (float?)r.LossScale)), scales.Select(s => (s.Step, (float?)s.Simple)));
        Assert.Equal([4096.0, 4096, 8192, 8192, 4096], results.Select(r => r.LossScale));
    }
}
