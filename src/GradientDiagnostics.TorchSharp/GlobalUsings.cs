global using TorchSharp;
global using GradientDiagnostics;
global using GradientDiagnostics.Adapters;
