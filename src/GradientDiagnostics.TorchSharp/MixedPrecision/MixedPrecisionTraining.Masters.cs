using TorchSharp.Modules;

namespace GradientDiagnostics.TorchSharp;

/// <content>The fp32 master weights saved with a checkpoint and loaded on resume, keyed by the model's parameter names.</content>
public sealed partial class MixedPrecisionTraining
{
    /// <summary>Saves the fp32 master weights to <paramref name="path"/>, keyed by the model's parameter names
    /// (<c>named_parameters()</c>), atomically (a temporary file renamed once complete). The masters are what the optimizer
    /// trains: the model's 16-bit weights are a rounded copy, so a resume must restore the masters, not recreate them from
    /// the model. Save the optimizer's state (built on <see cref="MasterParameters"/>) as usual, with
    /// <c>save_state_dict</c>.</summary>
    /// <param name="path">The file to write.</param>
    /// <exception cref="IOException">The file cannot be written; the earlier file, if any, is unchanged.</exception>
    public void SaveMasterWeights(string path) => AtomicFile.Write(path, WriteMasters);

    /// <summary>Loads master weights saved by <see cref="SaveMasterWeights"/> into <see cref="MasterParameters"/>, by
    /// parameter name, then writes them into the model (rounded to its 16-bit dtype). Every entry is read and checked
    /// before any master changes.</summary>
    /// <param name="path">The file to read.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated or corrupt, or names a parameter this model lacks,
    /// lacks one it has, or has another shape; the message names the parameter; no master changed.</exception>
    public void LoadMasterWeights(string path)
    {
        Dictionary<string, Parameter> masters = MastersByName();
        Dictionary<string, (long[] Shape, float[] Values)> saved;
        using (FileStream stream = File.OpenRead(path))
        {
            saved = MasterWeightsFile.Read(stream);
        }

        foreach ((string name, Parameter master) in masters)
        {
            if (!saved.TryGetValue(name, out var entry))
            {
                throw new InvalidDataException($"The master weights file has no parameter '{name}'.");
            }

            if (!entry.Shape.SequenceEqual(master.shape))
            {
                throw new InvalidDataException(
                    $"The master weights of '{name}' have shape [{string.Join(", ", entry.Shape)}]; this model's have [{string.Join(", ", master.shape)}].");
            }
        }

        if (saved.Keys.FirstOrDefault(n => !masters.ContainsKey(n)) is string extra)
        {
            throw new InvalidDataException($"The master weights file has a parameter '{extra}' this model does not have.");
        }

        using (var scope = torch.NewDisposeScope())
        using (var noGrad = torch.no_grad())
        {
            foreach ((string name, Parameter master) in masters)
            {
                master.copy_(torch.tensor(saved[name].Values, saved[name].Shape, torch.ScalarType.Float32));
            }
        }

        WriteMastersToModel();
    }

    private void WriteMasters(Stream stream)
    {
        using var scope = torch.NewDisposeScope();
        MasterWeightsFile.Write(stream, MastersByName().Select(m => (m.Key, (torch.Tensor)m.Value)));
    }

    /// <summary>The masters by the model's parameter names (matched through the monitored parameters' storage).</summary>
    private Dictionary<string, Parameter> MastersByName()
    {
        var byHandle = new Dictionary<IntPtr, Parameter>();
        for (int i = 0; i < _layers.Length; i++)
        {
            for (int j = 0; j < _layers[i].Parameters.Length; j++)
            {
                byHandle[LayerDiscovery.TensorIdentity(_layers[i].Parameters[j])] = _masterLayers[i].Parameters[j];
            }
        }

        var byName = new Dictionary<string, Parameter>();
        foreach ((string name, Parameter parameter) in _model.named_parameters())
        {
            if (byHandle.TryGetValue(LayerDiscovery.TensorIdentity(parameter), out Parameter? master))
            {
                byName[name] = master;
            }
        }

        return byName;
    }
}
