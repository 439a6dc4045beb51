namespace GradientDiagnostics;

/// <summary>Opens output files at configuration time, turning an unwritable path into an error that names the
/// option, instead of a failure in the middle of training.</summary>
internal static class OutputPath
{
    public static FileStream OpenForWriting(string path, string optionName)
    {
        try
        {
            string full = Path.GetFullPath(path);
            if (Path.GetDirectoryName(full) is string directory)
            {
                Directory.CreateDirectory(directory);
            }

            return new FileStream(full, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw Unwritable(path, optionName, ex);
        }
    }

    public static ArgumentException Unwritable(string path, string optionName, Exception inner) =>
        new($"{optionName}: cannot write to '{path}' ({inner.Message}). Choose a path in a writable directory.", optionName, inner);
}
