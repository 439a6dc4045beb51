using System.Globalization;
using System.Text;
using GradientDiagnostics.TorchSharp;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace GradientDiagnostics.Samples;

/// <summary>
/// A vanilla tanh RNN on the adding problem (Hochreiter &amp; Schmidhuber 1997), trained twice from the same
/// initialisation: without clipping, and with <see cref="GradientClipping.ByGlobalNorm"/>. Pascanu, Mikolov &amp; Bengio
/// (2013, "On the difficulty of training recurrent neural networks") used this task to show that exploding gradients
/// derail RNN training and that clipping the gradient norm fixes it.
/// </summary>
public static class ExplodingRnn
{
    /// <summary>The sample's sizes; the defaults run in seconds on 2 CPU cores.</summary>
    public sealed class Settings
    {
        /// <summary>Time steps per sequence.</summary>
        public int SequenceLength { get; init; } = 15;

        /// <summary>Hidden units of the RNN.</summary>
        public int HiddenSize { get; init; } = 32;

        /// <summary>Training steps per run.</summary>
        public int Steps { get; init; } = 1000;

        /// <summary>Sequences per batch.</summary>
        public int BatchSize { get; init; } = 32;

        /// <summary>SGD learning rate, the same for both runs.</summary>
        public double LearningRate { get; init; } = 0.3;

        /// <summary>The spectral radius the recurrent weight starts with. At 1 (an orthogonal matrix) the linearised
        /// dynamics neither shrink nor grow; the first large updates push the largest singular value above 1, the regime in
        /// which Pascanu et al. (2013) show that gradients explode.</summary>
        public double RecurrentRadius { get; init; } = 1.0;

        /// <summary>The global-norm bound of the clipped run.</summary>
        public double MaxNorm { get; init; } = 1.0;

        /// <summary>The seed of the initialisation and of the data, the same for both runs.</summary>
        public int Seed { get; init; } = 1;
    }

    /// <summary>What one run produced.</summary>
    /// <param name="Name">The run's name.</param>
    /// <param name="Losses">The loss at each step (NaN once it diverged).</param>
    /// <param name="ExplodingAlerts">Exploding alerts the monitor raised.</param>
    /// <param name="NonFiniteAlerts">NonFinite alerts the monitor raised.</param>
    /// <param name="SkippedSteps">Steps the monitor told the loop to skip.</param>
    /// <param name="ClippedSteps">Steps on which clipping changed the gradients.</param>
    /// <param name="MaxGlobalNorm">The largest pre-clip global gradient L2 norm seen.</param>
    public sealed record RunSummary(string Name, IReadOnlyList<double> Losses, int ExplodingAlerts, int NonFiniteAlerts, int SkippedSteps, int ClippedSteps, double MaxGlobalNorm)
    {
        /// <summary>The mean loss over the last tenth of the steps.</summary>
        public double FinalLoss => Losses.Skip(Losses.Count * 9 / 10).Average();
    }

    /// <summary>The loss of always predicting the mean target 1: the two summed values are U(0, 1), so the variance is 1/6.</summary>
    public const double BaselineLoss = 1.0 / 6.0;

    /// <summary>Runs both trainings and prints the alerts, a text chart of both loss curves and a summary.</summary>
    public static int Run(Settings settings, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        (RunSummary plain, RunSummary clipped) = Compare(settings, output);
        output.WriteLine();
        output.WriteLine(Chart(plain, clipped));
        output.WriteLine();
        output.WriteLine($"{"run",-28} {"final loss",11} {"max |g|",10} {"Exploding",10} {"NonFinite",10} {"skipped",8} {"clipped",8}");
        foreach (RunSummary s in new[] { plain, clipped })
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Name,-28} {s.FinalLoss,11:G4} {s.MaxGlobalNorm,10:G3} {s.ExplodingAlerts,10} {s.NonFiniteAlerts,10} {s.SkippedSteps,8} {s.ClippedSteps,8}"));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(predicting the mean scores {BaselineLoss:G3}; below it the network has learned to add)"));
        return 0;
    }

    /// <summary>Trains the same network from the same start without and with global-norm clipping.</summary>
    public static (RunSummary Plain, RunSummary Clipped) Compare(Settings settings, TextWriter? output = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // Tiny tensors: one intra-op thread avoids thread hand-offs that cost more than the work, and makes the runs
        // reproducible. The caller's setting is restored afterwards.
        int threads = get_num_threads();
        set_num_threads(1);
        try
        {
            RunSummary plain = Train("no clipping", settings, clipping: null, output);
            RunSummary clipped = Train(string.Create(CultureInfo.InvariantCulture, $"ByGlobalNorm({settings.MaxNorm})"), settings, GradientClipping.ByGlobalNorm(settings.MaxNorm), output);
            return (plain, clipped);
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    private static RunSummary Train(string name, Settings settings, GradientClipping? clipping, TextWriter? output)
    {
        manual_seed(settings.Seed);
        using var model = new AddingRnn(settings.HiddenSize, settings.RecurrentRadius);
        using var optimizer = optim.SGD(model.parameters(), settings.LearningRate);
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        using var monitor = model.AttachGradientMonitor(o => o.Clipping = clipping, output is null ? null : loggerFactory.CreateLogger($"ExplodingRnn[{name}]"));
        int exploding = 0, nonFinite = 0, skipped = 0, clippedSteps = 0;
        double maxNorm = 0;
        monitor.AlertRaised += (_, alert) =>
        {
            exploding += alert.Kind == GradientAlertKind.Exploding ? 1 : 0;
            nonFinite += alert.Kind == GradientAlertKind.NonFinite ? 1 : 0;
        };

        var generator = new Generator((ulong)settings.Seed);
        var losses = new List<double>(settings.Steps);
        output?.WriteLine($"-- {name}");
        for (int step = 0; step < settings.Steps; step++)
        {
            using var scope = NewDisposeScope();
            (Tensor x, Tensor y) = AddingProblem(settings.BatchSize, settings.SequenceLength, generator);
            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.call(x), y);
            loss.backward();
            GradientStepResult result = monitor.Step(loss);
            if (result.SkipStep)
            {
                skipped++;
            }
            else
            {
                optimizer.step();
            }

            clippedSteps += result.ClippingActed ? 1 : 0;
            maxNorm = double.IsFinite(result.GlobalNorm) ? Math.Max(maxNorm, result.GlobalNorm) : maxNorm;
            losses.Add(result.Loss ?? double.NaN);
        }

        return new RunSummary(name, losses, exploding, nonFinite, skipped, clippedSteps, maxNorm);
    }

    /// <summary>The adding problem: each step holds a value in U(0, 1) and a marker; exactly two steps are marked, one in
    /// each half of the sequence, and the target is the sum of their values (Hochreiter &amp; Schmidhuber 1997).</summary>
    private static (Tensor Input, Tensor Target) AddingProblem(int batch, int length, Generator generator)
    {
        Tensor values = rand([batch, length], generator: generator);
        Tensor first = randint(0, length / 2, [batch, 1], generator: generator);
        Tensor second = randint(length / 2, length, [batch, 1], generator: generator);
        Tensor one = ones([batch, 1]);
        Tensor markers = zeros([batch, length]).scatter_(1, first, one).scatter_(1, second, one);
        Tensor input = stack([values, markers], dim: 2);
        Tensor target = (values * markers).sum(1, keepdim: true);
        return (input, target);
    }

    /// <summary>Both loss curves as rows of a text chart, one column per bucket of steps (the bucket's mean loss).</summary>
    private static string Chart(RunSummary a, RunSummary b)
    {
        const int Columns = 60, Rows = 12;
        double[] ca = Buckets(a.Losses, Columns), cb = Buckets(b.Losses, Columns);
        // The clipped run sets the scale; a diverged run would flatten everything else, so it goes off the chart.
        double top = Math.Max(cb.Where(double.IsFinite).DefaultIfEmpty(1).Max(), BaselineLoss * 2);
        var chart = new StringBuilder();
        chart.AppendLine(CultureInfo.InvariantCulture, $"loss per step ({a.Losses.Count} steps; '.' {a.Name}, '#' {b.Name}, '!' NaN or off the chart, '-' predicting the mean)");
        for (int row = Rows - 1; row >= 0; row--)
        {
            double low = top * row / Rows, high = top * (row + 1) / Rows;
            chart.Append(string.Create(CultureInfo.InvariantCulture, $"{high,8:G3} |"));
            for (int c = 0; c < Columns; c++)
            {
                bool atTop = row == Rows - 1;
                bool hitB = cb[c] >= low && (cb[c] < high || (atTop && cb[c] <= top)), hitA = ca[c] >= low && (ca[c] < high || (atTop && ca[c] <= top));
                bool offA = atTop && !(ca[c] <= top), offB = atTop && !(cb[c] <= top);
                chart.Append(hitB ? '#' : hitA ? '.' : offA || offB ? '!' : BaselineLoss >= low && BaselineLoss < high ? '-' : ' ');
            }

            chart.AppendLine();
        }

        chart.Append(new string(' ', 9)).Append('+').Append('-', Columns);
        return chart.ToString();
    }

    private static double[] Buckets(IReadOnlyList<double> losses, int columns)
    {
        var buckets = new double[columns];
        for (int c = 0; c < columns; c++)
        {
            int start = c * losses.Count / columns, end = Math.Max(start + 1, (c + 1) * losses.Count / columns);
            buckets[c] = losses.Skip(start).Take(end - start).Average();
        }

        return buckets;
    }

    /// <summary>A one-layer tanh RNN read out from its last hidden state. <c>nn.RNN</c> returns a tuple, so it sits inside
    /// this module, which calls its children through <c>call()</c>.</summary>
    private sealed class AddingRnn : nn.Module<Tensor, Tensor>
    {
        private readonly global::TorchSharp.Modules.RNN rnn;
        private readonly nn.Module<Tensor, Tensor> head;

        public AddingRnn(int hidden, double radius)
            : base(nameof(AddingRnn))
        {
            rnn = nn.RNN(2, hidden, nonLinearity: nn.NonLinearities.Tanh, batchFirst: true);
            head = nn.Linear(hidden, 1);
            using (no_grad())
            {
                // An orthogonal matrix has every singular value 1; scaling it sets the spectral radius exactly.
                var weight = rnn.get_weight_hh(0)!;
                nn.init.orthogonal_(weight);
                weight.mul_(radius);
            }

            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            (Tensor output, Tensor last) = rnn.call(input);
            using (output)
            using (last)
            using (Tensor final = last[0])
            {
                return head.call(final);
            }
        }
    }
}
