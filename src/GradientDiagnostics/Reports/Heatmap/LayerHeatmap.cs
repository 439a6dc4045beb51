namespace GradientDiagnostics;

/// <summary>
/// The report's layers × steps heatmap in bounded memory: each layer's log₁₀ mean |g| at the exported steps (the steps
/// whose per-layer statistics the report and the JSON Lines file keep), in at most
/// <see cref="ReportOptions.HeatmapColumns"/> columns of <c>layers</c> cells each. A column merges the same
/// number of exported steps; when the columns are full, neighbours merge pairwise and that number doubles (the scheme
/// of the global-norm buckets), so a run of any length holds at most layers × HeatmapColumns cells.
/// </summary>
internal sealed class LayerHeatmap
{
    private readonly int _layerCount;
    private readonly int _maxColumns;
    private readonly List<HeatmapColumn> _columns;
    private readonly List<HeatmapCell[]> _cells;
    private HeatmapColumn? _pending;
    private HeatmapCell[]? _pendingCells;
    private int _columnWidth = 1;
    private double _previousLossScale = double.NaN;

    public LayerHeatmap(int layerCount, int maxColumns)
    {
        _layerCount = layerCount;
        _maxColumns = maxColumns;
        _columns = new List<HeatmapColumn>(maxColumns);
        _cells = new List<HeatmapCell[]>(maxColumns);
    }

    /// <summary>Adds a step: its clipping, loss scale and alerts always; its layers' cells when
    /// <paramref name="exported"/>.</summary>
    public void Add(GradientStepResult result, bool exported)
    {
        bool scaleChanged = !double.IsNaN(_previousLossScale) && result.LossScale != _previousLossScale;
        _previousLossScale = result.LossScale;
        HeatmapColumn step = HeatmapColumn.Of(result, exported, scaleChanged);
        _pending = _pending is HeatmapColumn pending ? HeatmapColumn.Merge(pending, step) : step;
        if (!exported)
        {
            return;
        }

        _pendingCells ??= new HeatmapCell[_layerCount];
        for (int i = 0; i < _layerCount && i < result.Layers.Count; i++)
        {
            _pendingCells[i] = HeatmapCell.Merge(_pendingCells[i], HeatmapCell.Of(result.Layers[i]));
        }

        if (_pending.Value.ExportedSteps < _columnWidth)
        {
            return;
        }

        _columns.Add(_pending.Value);
        _cells.Add(_pendingCells);
        (_pending, _pendingCells) = (null, null);
        if (_columns.Count == _maxColumns)
        {
            for (int c = 0; c < _maxColumns / 2; c++)
            {
                HeatmapCell[] left = _cells[2 * c], right = _cells[(2 * c) + 1];
                for (int i = 0; i < _layerCount; i++)
                {
                    left[i] = HeatmapCell.Merge(left[i], right[i]);
                }

                (_columns[c], _cells[c]) = (HeatmapColumn.Merge(_columns[2 * c], _columns[(2 * c) + 1]), left);
            }

            _columns.RemoveRange(_maxColumns / 2, _maxColumns / 2);
            _cells.RemoveRange(_maxColumns / 2, _maxColumns / 2);
            _columnWidth *= 2;
        }
    }

    /// <summary>A copy for rendering. A partly filled column is shown as it is; steps after the last exported one join
    /// the last column, so its clipping, loss scale and alerts are not lost.</summary>
    public LayerHeatmapSnapshot Snapshot()
    {
        List<HeatmapColumn> columns = [.. _columns];
        List<HeatmapCell[]> cells = [.. _cells.Select(c => (HeatmapCell[])c.Clone())];
        if (_pending is HeatmapColumn pending)
        {
            if (_pendingCells is not null)
            {
                columns.Add(pending);
                cells.Add((HeatmapCell[])_pendingCells.Clone());
            }
            else if (columns.Count > 0)
            {
                columns[^1] = HeatmapColumn.Merge(columns[^1], pending);
            }
        }

        return new LayerHeatmapSnapshot(columns, cells, _columnWidth);
    }

    /// <summary>The state to save with a checkpoint.</summary>
    public HeatmapState SaveState() => new()
    {
        ColumnWidth = _columnWidth,
        PreviousLossScale = _previousLossScale,
        Columns = [.. _columns],
        Cells = [.. _cells.Select(c => (HeatmapCell[])c.Clone())],
        PendingColumn = _pending,
        PendingCells = (HeatmapCell[]?)_pendingCells?.Clone(),
    };

    /// <summary>Restores a state saved by <see cref="SaveState"/> for the same layers and column bound.</summary>
    /// <exception cref="InvalidDataException">The saved heatmap does not fit this one.</exception>
    public void LoadState(HeatmapState state)
    {
        bool fits = state.Columns.Count == state.Cells.Count && state.Columns.Count < _maxColumns && state.ColumnWidth >= 1 &&
            state.Cells.Append(state.PendingCells ?? new HeatmapCell[_layerCount]).All(c => c.Length == _layerCount);
        if (!fits)
        {
            throw new InvalidDataException(
                $"The saved heatmap ({state.Columns.Count} columns) does not fit this monitor's ({_layerCount} layers, at most {_maxColumns} columns).");
        }

        _columns.Clear();
        _columns.AddRange(state.Columns);
        _cells.Clear();
        _cells.AddRange(state.Cells.Select(c => (HeatmapCell[])c.Clone()));
        (_pending, _pendingCells) = (state.PendingColumn, (HeatmapCell[]?)state.PendingCells?.Clone());
        (_columnWidth, _previousLossScale) = (state.ColumnWidth, state.PreviousLossScale);
    }
}
