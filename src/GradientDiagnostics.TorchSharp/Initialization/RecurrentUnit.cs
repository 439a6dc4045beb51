namespace GradientDiagnostics.TorchSharp.Initialization;

/// <summary>The recurrence a recurrent module runs, which decides how the remedy initializes it.</summary>
internal enum RecurrentUnit
{
    /// <summary>An Elman RNN with tanh: orthogonal recurrent weight, scaled by measurement to a per-step gain of 1.</summary>
    RnnTanh,

    /// <summary>An Elman RNN with ReLU: identity recurrent weight and zero biases (Le, Jaitly &amp; Hinton 2015).</summary>
    RnnRelu,

    /// <summary>An LSTM (gate rows i | f | g | o): orthogonal gate blocks, chrono forget and input biases.</summary>
    Lstm,

    /// <summary>A GRU (gate rows r | z | n): orthogonal gate blocks, chrono update bias.</summary>
    Gru,
}
