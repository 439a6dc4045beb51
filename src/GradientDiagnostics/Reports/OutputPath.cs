namespace GradientDiagnostics.Adapters;

/// <summary>Opens output files at configuration time, turning an unwritable path into an error that names the
/// option, instead of a failure in the middle of training. The core's JSON Lines and report outputs use it, and so does
/// an adapter's own output (the TorchSharp adapter's TensorBoard writer), so every option that names a path fails the
/// same way.</summary>
public static class OutputPath
{
    /// <summary>Creates (or truncates) the file at <paramref name="path"/> for writing, creating its directory first.</summary>
    /// <param name="path">The file's path, relative to the current directory or absolute.</param>
    /// <param name="optionName">The option's path (for example <c>Telemetry.JsonLinesPath</c>), named in the error.</param>
    /// <returns>The open stream (shared for reading), owned by the caller.</returns>
    /// <exception cref="ArgumentException">The path cannot be created or written; ParamName is <paramref name="optionName"/>.</exception>
    public static FileStream OpenForWriting(string path, string optionName) => Open(path, optionName, FileMode.Create);

    /// <summary>As <see cref="OpenForWriting"/>, but keeps the file's content (opened for reading and writing), for an
    /// output that may append to it when the run resumes.</summary>
    internal static FileStream OpenKeepingContent(string path, string optionName) => Open(path, optionName, FileMode.OpenOrCreate);

    private static FileStream Open(string path, string optionName, FileMode mode)
    {
        try
        {
            string full = Path.GetFullPath(path);
            if (Path.GetDirectoryName(full) is string directory)
            {
                Directory.CreateDirectory(directory);
            }

            return new FileStream(full, mode, mode == FileMode.Create ? FileAccess.Write : FileAccess.ReadWrite, FileShare.Read, bufferSize: 64 * 1024);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw Unwritable(path, optionName, ex);
        }
    }

    /// <summary>The error for an output path that cannot be written, for an adapter that opens the output itself (a
    /// framework's own writer) and catches its failure.</summary>
    /// <param name="path">The path as the user gave it.</param>
    /// <param name="optionName">The option's path, used as the exception's ParamName and named in its message.</param>
    /// <param name="inner">What the file system reported.</param>
    /// <returns>The exception to throw: it names the option and the path, and asks for a writable directory.</returns>
    public static ArgumentException Unwritable(string path, string optionName, Exception inner) =>
        new($"{optionName}: cannot write to '{path}' ({inner.Message}). Choose a path in a writable directory.", optionName, inner);
}
