namespace GradientDiagnostics.TorchSharp.Tests.Checkpoint;

/// <summary>A save that fails halfway leaves the earlier state file readable, and the stream overloads leave the
/// caller's stream open.</summary>
public sealed class AtomicSaveTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gd-atomic-").FullName;

    [Fact]
    public void A_save_interrupted_by_a_failing_stream_leaves_the_earlier_file_readable_and_no_temporary_file()
    {
        var scenario = new ResumeTraining.Scenario();
        string path = Path.Combine(_directory, "monitor.json");
        byte[]? earlier = null;
        ResumeTraining.Train(scenario, 0, 60, load: null, save: null, new ResumeTraining.Log(), atStep: (step, monitor) =>
        {
            if (step == 30)
            {
                monitor.SaveState(path);
                earlier = File.ReadAllBytes(path);
            }
            else if (step == 59)
            {
                var error = Assert.Throws<IOException>(
                    () => AtomicFile.Write(path, s => monitor.SaveState(new FailingStream(s, failAfter: earlier!.Length / 2))));
                Assert.Equal(FailingStream.Message, error.Message);
            }
        });

        Assert.Equal(earlier, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_directory));
        using var model = ResumeTraining.Model(scenario);
        using GradientMonitor fresh = model.AttachGradientMonitor();
        fresh.LoadState(path);
        Assert.Equal(30, fresh.Step().Step);
    }

    [Fact]
    public void The_stream_overloads_leave_the_callers_stream_open()
    {
        using var model = ResumeTraining.Model(new ResumeTraining.Scenario());
        using GradientMonitor monitor = model.AttachGradientMonitor();
        using var stream = new MemoryStream();
        stream.WriteByte((byte)' '); // the state may follow other content in a shared checkpoint stream
        monitor.SaveState(stream);
        long end = stream.Position;
        stream.WriteByte((byte)'\n');

        stream.Position = 1;
        using var reader = new MemoryStream(stream.ToArray()[1..(int)end]);
        monitor.LoadState(reader);

        Assert.True(stream.CanWrite);
        Assert.True(reader.CanRead);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Passes writes through until <c>failAfter</c> bytes, then throws, as a full disk or a killed write would.</summary>
    private sealed class FailingStream(Stream inner, int failAfter) : Stream
    {
        public const string Message = "disk full (simulated)";
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position { get => _written; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int allowed = (int)Math.Max(0, Math.Min(buffer.Length, failAfter - _written));
            inner.Write(buffer[..allowed]);
            _written += allowed;
            if (allowed < buffer.Length)
            {
                throw new IOException(Message);
            }
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
