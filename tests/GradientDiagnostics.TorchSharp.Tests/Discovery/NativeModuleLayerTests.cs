using GradientDiagnostics.TorchSharp.Tests.ModelZoo;
using Microsoft.Extensions.Logging.Testing;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GradientDiagnostics.TorchSharp.Tests;

/// <summary>Issue 13 §1–2: layers inside TorchSharp's native composite modules, found from the parameter names, and what
/// the probes can and cannot see of them.</summary>
public sealed class NativeModuleLayerTests
{
    private static readonly string[] EncoderLayerParts = ["self_attn", "self_attn.out_proj", "norm1", "linear1", "linear2", "norm2"];

    [Fact]
    public void A_transformer_encoder_reports_each_sub_layer_of_each_encoder_layer_in_forward_order()
    {
        using var encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32), 3);
        using var monitor = encoder.AttachGradientMonitor();

        // Forward order (post-LN): attention, add & norm1, feed-forward, add & norm2; blocks in order.
        Assert.Equal([.. Enumerable.Range(0, 3).SelectMany(i => EncoderLayerParts.Select(p => $"layers.{i}.{p}"))], monitor.LayerNames);
        LayerDescriptor attention = monitor.Descriptors[0];
        Assert.Equal((16, 48), (attention.FanIn, attention.FanOut)); // in_proj_weight [3·d, d]
        Assert.Equal((16, 32), (monitor.Descriptors[3].FanIn, monitor.Descriptors[3].FanOut)); // linear1 [32, 16]
        Assert.Null(monitor.Descriptors[2].FanIn); // norm1: no 2-D weight
    }

    [Fact]
    public void A_transformer_and_a_multihead_attention_split_by_parameter_names_and_frozen_groups_are_left_out()
    {
        using var transformer = nn.Transformer(16, 2, 1, 1, 32);
        using var attention = nn.MultiheadAttention(16, 2);
        foreach ((string _, Parameter p) in attention.named_parameters().Where(p => p.name.StartsWith("out_proj.", StringComparison.Ordinal)))
        {
            p.requires_grad = false;
        }

        using var transformerMonitor = transformer.AttachGradientMonitor();
        using var attentionMonitor = attention.AttachGradientMonitor();

        Assert.Equal(
            ["encoder.layers.0.self_attn", "encoder.layers.0.self_attn.out_proj", "encoder.layers.0.norm1", "encoder.layers.0.linear1", "encoder.layers.0.linear2", "encoder.layers.0.norm2", "encoder.norm",
             "decoder.layers.0.self_attn", "decoder.layers.0.self_attn.out_proj", "decoder.layers.0.norm1", "decoder.layers.0.multihead_attn", "decoder.layers.0.multihead_attn.out_proj",
             "decoder.layers.0.norm2", "decoder.layers.0.linear1", "decoder.layers.0.linear2", "decoder.layers.0.norm3", "decoder.norm"],
            transformerMonitor.LayerNames);
        Assert.Equal([LayerDiscovery.RootLayerName], attentionMonitor.LayerNames); // out_proj frozen: not a layer
    }

    [Fact]
    public void The_first_blocks_weight_gradients_vanishing_against_the_last_blocks_is_detected_and_named()
    {
        manual_seed(3);
        using var zoo = new TransformerClassifier();
        using var monitor = zoo.Model.AttachGradientMonitor(o => o.Vanishing.Persistence = 1);
        var generator = new Generator(1);
        using var scope = NewDisposeScope();
        zoo.Loss(generator).backward();
        // The first encoder block's gradients shrink by 1e-6, as when the signal fades on its way back through depth.
        foreach ((string name, Parameter p) in zoo.Model.named_parameters().Where(p => p.name.StartsWith("encoder.layers.0.", StringComparison.Ordinal)))
        {
            p.grad!.mul_(1e-6);
        }

        GradientStepResult result = monitor.Step();

        GradientAlert alert = Assert.Single(result.Alerts, a => a.Kind == GradientAlertKind.Vanishing && a.Criteria.Any(c => c.Metric == GradientMetricNames.NormRatioToLaterLayers));
        Assert.StartsWith("encoder.layers.0.", alert.Layer, StringComparison.Ordinal);
    }

    [Fact]
    public void Probes_hook_multihead_attention_and_the_masked_encoder_and_name_the_sub_layers_they_cannot_see()
    {
        manual_seed(3);
        using var zoo = new TransformerClassifier();
        var logger = new FakeLogger();
        using var monitor = zoo.Model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; }, logger);
        using (var scope = NewDisposeScope())
        {
            zoo.Loss(new Generator(1)).backward();
            monitor.Step();
        }

        // The encoder's output is its last sub-layer's (post-LN: layers.1.norm2): probed through the 3-input hook.
        Assert.Equal(["embedding", "encoder.layers.1.norm2", "head"], monitor.ProbedLayers);
        Assert.Equal(monitor.ProbedLayers, monitor.CapturedLayers);
        Assert.Equal(11, monitor.UnprobedLayers.Count);
        Assert.Contains("native module encoder", monitor.UnprobedLayers["encoder.layers.0.linear1"], StringComparison.Ordinal);
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.LayerOutputNotCaptured);
        Assert.Contains("encoder.layers.0.self_attn", warning.Message, StringComparison.Ordinal);

        using var attention = new AttentionModel();
        using var attentionMonitor = attention.Model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; });
        GradientStepResult result;
        using (var scope = NewDisposeScope())
        {
            attention.Loss(new Generator(1)).backward();
            result = attentionMonitor.Step();
        }

        // MultiheadAttention's output (out_proj's) is probed through its 6-argument tuple hook.
        Assert.Contains("attn1.out_proj", attentionMonitor.CapturedLayers);
        Assert.True(result.Layers.Single(l => l.Name == "attn2.out_proj").OutputGradientNorm > 0);
    }

    [Fact]
    public void A_module_with_a_signature_torchsharp_does_not_ship_is_reported_with_the_reason()
    {
        using var model = new Scaled();
        using var monitor = model.AttachGradientMonitor(o => o.CaptureLayerOutputs = true);

        Assert.Empty(monitor.ProbedLayers);
        Assert.Contains("Module<Tensor, Double, Tensor>", monitor.UnprobedLayers["(root)"], StringComparison.Ordinal);
    }

    [Fact]
    public void A_child_forward_model_logs_the_nothing_captured_warning_once_and_says_none_were_captured()
    {
        manual_seed(3);
        using var zoo = new ForwardCallingModel();
        var logger = new FakeLogger();
        using var monitor = zoo.Model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; }, logger);
        var generator = new Generator(1);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            zoo.Loss(generator).backward();
            monitor.Step();
        }

        Assert.Equal(["conv1", "conv2", "fc1", "fc2"], monitor.ProbedLayers);
        Assert.Empty(monitor.CapturedLayers);
        FakeLogRecord warning = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == GradientLogEvents.LayerOutputNotCaptured);
        Assert.Contains("child.call(x)", warning.Message, StringComparison.Ordinal);
        Assert.Contains("conv1, conv2, fc1, fc2", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cells_bilinear_embedding_bag_and_the_transformer_decoder_and_transformer_are_probed_through_their_own_signatures()
    {
        manual_seed(8);
        using var model = new Signatures();
        using var monitor = model.AttachGradientMonitor(o => { o.CaptureLayerOutputs = true; o.FullStatisticsInterval = 1; });
        GradientStepResult result;
        using (var scope = NewDisposeScope())
        {
            model.call(randn(3, 8)).backward();
            result = monitor.Step();
        }

        string[] expected = ["bilinear", "gru_cell", "lstm_cell", "bag", "decoder.layers.0.norm3", "transformer.decoder.norm"];
        Assert.Equal(expected, monitor.CapturedLayers);
        Assert.All(expected, name => Assert.True(result.Layers.Single(l => l.Name == name).OutputGradientNorm > 0, name));
    }

    /// <summary>A module whose forward takes a scale: a signature outside TorchSharp's own.</summary>
    private sealed class Scaled : nn.Module<Tensor, double, Tensor>
    {
        private readonly Parameter weight = nn.Parameter(ones(4));

        public Scaled()
            : base(nameof(Scaled))
        {
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, double scale) => x * weight * scale;
    }

    /// <summary>One module of each remaining shipped signature, each called through <c>call(...)</c>; the loss sums their outputs.</summary>
    private sealed class Signatures : nn.Module<Tensor, Tensor>
    {
        private readonly Bilinear bilinear = nn.Bilinear(8, 8, 8);
        private readonly GRUCell gru_cell = nn.GRUCell(8, 8);
        private readonly LSTMCell lstm_cell = nn.LSTMCell(8, 8);
        private readonly EmbeddingBag bag = nn.EmbeddingBag(10, 8);
        private readonly TransformerDecoder decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout: 0), 1);
        private readonly Transformer transformer = nn.Transformer(8, 2, 1, 1, 16, dropout: 0);

        public Signatures()
            : base(nameof(Signatures))
        {
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            Tensor sequence = x.unsqueeze(0).expand(4, -1, -1); // [4, 3, 8]
            Tensor total = bilinear.call(x, x).sum() + gru_cell.call(x, zeros(3, 8)).sum() + lstm_cell.call(x, (zeros(3, 8), zeros(3, 8))).Item1.sum();
            total += bag.call(arange(6).reshape(3, 2), null!, null!).sum();
            total += decoder.call(sequence, sequence, null!, null!, null!, null!).sum();
            return total + transformer.call(sequence, sequence).sum();
        }
    }
}
