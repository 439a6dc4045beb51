global using TorchSharp;
global using GradientDiagnostics;
