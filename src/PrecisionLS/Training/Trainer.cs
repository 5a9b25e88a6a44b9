using System.Numerics;
using PrecisionLS.Bench;
using PrecisionLS.Config;
using PrecisionLS.Nn;
using PrecisionLS.Numerics;
using PrecisionLS.Tasks;

namespace PrecisionLS.Training;

/// <summary>What one training step did (a struct: the step allocates nothing).</summary>
public readonly record struct StepResult(long Step, double Loss, double LearningRate, double GradNorm, bool Skipped);

/// <summary>
/// The high-precision training recipe (REFERENCE §4) for one model and task. Per step: sample a fresh batch,
/// forward, loss, backward; clip the global gradient norm; skip the update when the norm is NaN or inf;
/// gradient EMA filter; Adam; the step schedule. All state lives here and in <see cref="Checkpoint"/>.
/// </summary>
public sealed class Trainer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Consecutive skipped steps after which training stops as diverged.</summary>
    public const int MaxConsecutiveSkips = 50;

    private readonly T[] _prompt, _target, _output, _dOutput;
    private readonly T[] _evalPrompt, _evalTarget, _evalOutput;
    private readonly int _sgdBatch;             // training.batch_size: first-order steps, adaptive metric, eval chunks
    private int _batch;                         // examples in the buffers now (_sgdBatch, or the fixed second-order batch)
    private T[]? _chunkPrompt, _chunkOutput;    // held-out evaluation, one chunk at a time
    private readonly SecondOrderOptimizer<T>? _second;
    private readonly ModelObjective? _objective;
    private bool _fixedBatchLoaded;             // the buffers hold the second-order batch of _second.BatchSeed
    private readonly BatchGroups<T> _groups;
    private readonly BatchGroups<T>.GroupLoss _groupLoss;
    private readonly BatchGroups<T>.GroupPrepare _groupSample;
    private readonly ITask<T>?[] _workerTasks = new ITask<T>?[BatchGroups<T>.MaxGroups];
    private readonly Rng[] _groupRngs = Enumerable.Range(0, BatchGroups<T>.MaxGroups).Select(_ => new Rng(0)).ToArray();
    private readonly (int Offset, int Length)[] _trainable;
    private readonly ulong _metricSeed;
    private T[]? _metricPrev;                           // the previous minibatch gradient (adaptive scheduler only)
    private ulong _stepSeed;
    private int _promptSize, _targetSize, _outSize;    // per example, at the current size

    public Trainer(RunConfig config)
    {
        Config = config;
        var t = config.Training;
        if (t.BatchSize < 1) throw new ConfigException($"training.batch_size = {t.BatchSize} must be at least 1");
        if (t.EvalBatchSize < 1) throw new ConfigException($"training.eval_batch_size = {t.EvalBatchSize} must be at least 1");
        if (!(t.ClipGradNorm > 0)) throw new ConfigException($"training.clip_grad_norm = {t.ClipGradNorm} must be positive");
        if (Array.IndexOf(SchedulerNames, t.Scheduler) < 0)
            throw new ConfigException($"training.scheduler '{t.Scheduler}' is not known; accepted: {string.Join(", ", SchedulerNames)}");
        if (Array.IndexOf(Optimizers.Names, t.Optimizer) < 0)
            throw new ConfigException($"training.optimizer '{t.Optimizer}' is not known; accepted: {string.Join(", ", Optimizers.Names)}");
        if (t.DecayStartLoss != 0 && t.Scheduler == "adaptive_threshold")
            throw new ConfigException($"training.decay_start_loss = {t.DecayStartLoss} applies to the step schedule; training.scheduler adaptive_threshold decides its own decay (set decay_start_loss: 0)");
        if (t.DecayStartFactor != 1 && !(t.DecayStartLoss > 0))
            throw new ConfigException($"training.decay_start_factor = {t.DecayStartFactor} applies only with training.decay_start_loss > 0 (the step the decay starts at)");
        if (t.SchedulerMetricEvery < 1) throw new ConfigException($"training.scheduler_metric_every = {t.SchedulerMetricEvery} must be at least 1");
        if (!(t.L1Reg >= 0) || !double.IsFinite(t.L1Reg)) throw new ConfigException($"training.l1_reg = {t.L1Reg} must be finite and >= 0");
        if (!(t.GroupLasso >= 0) || !double.IsFinite(t.GroupLasso)) throw new ConfigException($"training.group_lasso = {t.GroupLasso} must be finite and >= 0");
        Model = new SequenceModel<T>(config.Model);
        Task = TaskCatalog.Create<T>(config);
        if (Task.TokenDims != Model.InDims)
            throw new ConfigException($"task '{Task.Name}' makes tokens of width {Task.TokenDims} but model.in_dims is {Model.InDims}; set model.in_dims: {Task.TokenDims}");
        if (Task.OutputDims != Model.OutDims)
            throw new ConfigException($"task '{Task.Name}' reads {Task.OutputDims} output channels but model.out_dims is {Model.OutDims}; set model.out_dims: {Task.OutputDims}");
        if (Task.MaxPromptLength > config.Model.NPositions)
            throw new ConfigException($"task '{Task.Name}' prompts have {Task.MaxPromptLength} tokens but model.n_positions is {config.Model.NPositions}; set model.n_positions >= {Task.MaxPromptLength}");
        Curriculum = new Curriculum(t.Curriculum, Task.MaxPoints, Task.MaxDims);
        foreach (var (p, d, key) in new[] { (Curriculum.First.Points, Curriculum.First.Dims, "start"), (Curriculum.Full.Points, Curriculum.Full.Dims, "end") })
        {
            try { Task.SetSize(p, d); }
            catch (ArgumentException e) { throw new ConfigException($"training.curriculum {key} size: {ConfigException.Reason(e)}"); }
        }

        Model.Initialize(Rng.Derive(t.Seed, "init"));
        _groups = new BatchGroups<T>(Model);
        DataRng = Rng.Derive(t.Seed, "train-data");
        Optimizer = Optimizers.Create(Model.Store, t);
        _second = Optimizer as SecondOrderOptimizer<T>;
        if (t.GroupLasso > 0) GroupLasso = ChannelGroupLasso<T>.ForModel(Model.Store, t.GroupLassoResidual);
        Filter = new GradientEmaFilter<T>(Model.Store, t.EmaDecay, t.EmaLambda);
        Scheduler = t.Scheduler == "adaptive_threshold"
            ? new AdaptiveThresholdScheduler(t.LearningRate, t.StepRate, t.Gamma, t.MinLr, t.SchedulerEmaLambda, t.SchedulerMetricThreshold)
            : new StepThresholdScheduler(t.LearningRate, t.StepRate, t.Gamma, t.MinLr, t.DecayStartLoss, t.DecayStartFactor);
        _trainable = Model.Store.Parameters.Where(p => p.Trainable).Select(p => (p.Offset, p.Length)).ToArray();
        // The metric's minibatches come from their own streams, keyed by (step, minibatch): the training data stay
        // the same whatever the scheduler, and a resumed run measures exactly what a straight run would.
        _metricSeed = Rng.Derive(t.Seed, "grad-metric").NextUInt64();

        // Buffers hold the largest size the curriculum reaches; each step uses the current size.
        _batch = _sgdBatch = t.BatchSize;
        int capacity = Math.Max(_sgdBatch, _second?.BatchSize ?? 0);
        _prompt = new T[(long)capacity * Task.MaxPromptLength * Task.TokenDims];
        _target = new T[(long)capacity * Task.MaxReadCount * Task.ReadChannelCount];
        _output = new T[(long)capacity * Task.MaxReadCount * Model.OutDims];
        _dOutput = new T[_output.Length];
        // One slice's share of the batch loss, on the slice's own thread (the slices do not overlap).
        _groupLoss = (start, count) => Task.Loss(_output.AsSpan(start * _outSize, count * _outSize),
            _target.AsSpan(start * _targetSize, count * _targetSize), count, _dOutput.AsSpan(start * _outSize, count * _outSize), meanBatch: _batch);
        // Each group draws its own examples on its own thread, from stream (step seed, group): the data depend on
        // the seed and the fixed group count, never on the thread count. Tasks keep scratch buffers, so each
        // worker samples with its own task instance, set to the step's size.
        _groupSample = (worker, group, start, count) =>
        {
            long s0 = StepProfiler.Start();
            var rng = _groupRngs[group];
            rng.Reseed(Rng.StreamSeed(_stepSeed, (ulong)group));
            var task = _workerTasks[worker] ??= TaskCatalog.Create<T>(config);
            if (task.Points != Task.Points || task.Dims != Task.Dims) task.SetSize(Task.Points, Task.Dims);
            task.Sample(rng, count, _prompt.AsSpan(start * _promptSize, count * _promptSize), _target.AsSpan(start * _targetSize, count * _targetSize));
            StepProfiler.Stop("task.sample", s0);
        };

        // The held-out batch: its own seeded stream, drawn once, never seen in training.
        int evalBatch = t.EvalBatchSize;
        _evalPrompt = new T[(long)evalBatch * Task.PromptLength * Task.TokenDims];
        _evalTarget = new T[(long)evalBatch * Task.TargetSize];
        _evalOutput = new T[(long)evalBatch * Task.ReadPositions.Length * Model.OutDims];
        Task.Sample(Rng.Derive(t.Seed, "eval-data"), evalBatch, _evalPrompt, _evalTarget);   // at full size (set above)
        if (_second is not null) _objective = new ModelObjective(this);
        if (_second?.GaussNewton?.Options.Solver == "direct")
        {
            // The direct solver holds the fixed batch's whole Jacobian: refuse at start what one array cannot hold.
            long residuals = (long)_second.BatchSize * Task.MaxReadCount * Model.OutDims, entries = residuals * Model.Store.Size;
            long perExample = (long)Task.MaxReadCount * Model.OutDims;
            long maxBatch = Math.Min(Array.MaxLength / (perExample * Model.Store.Size), (long)Math.Sqrt(Array.MaxLength) / perExample);
            if (_second.BatchSize > maxBatch)
                throw new ConfigException($"training.gn_solver direct: the Jacobian of a batch of {_second.BatchSize} ({residuals} residuals x {Model.Store.Size} parameters = {entries} values, " +
                                          $"{entries * System.Runtime.InteropServices.Marshal.SizeOf<T>() / (1L << 30)} GiB) or its {residuals} x {residuals} Gram matrix is too large for one array; " +
                                          $"lower training.second_order_batch_size to at most {maxBatch}");
        }
    }

    public RunConfig Config { get; }
    /// <summary>The schedule of prompt sizes (points, dims) over the steps.</summary>
    public Curriculum Curriculum { get; }
    public SequenceModel<T> Model { get; }
    public ITask<T> Task { get; }
    /// <summary>The accepted training.scheduler values ("step" and "step_threshold" build the same schedule).</summary>
    public static readonly string[] SchedulerNames = ["step", "step_threshold", "adaptive_threshold"];

    public IOptimizer<T> Optimizer { get; }
    /// <summary>The channel groups of training.group_lasso (null when it is 0).</summary>
    public ChannelGroupLasso<T>? GroupLasso { get; }
    public GradientEmaFilter<T> Filter { get; }
    public ILearningRateScheduler Scheduler { get; }
    /// <summary>The last gradient cosine metric measured (NaN before the first; adaptive scheduler only).</summary>
    public double LastGradientCosine { get; private set; } = double.NaN;
    /// <summary>The training data stream (its state is checkpointed): one seed per step; group g of the batch draws
    /// its examples from stream (seed, g), so the data do not depend on the thread count.</summary>
    public Rng DataRng { get; internal set; }
    /// <summary>Steps completed.</summary>
    public long Step { get; internal set; }
    /// <summary>Steps skipped for a NaN/inf gradient so far, and in a row.</summary>
    public long SkippedSteps { get; internal set; }
    public int ConsecutiveSkips { get; internal set; }

    /// <summary>Floating-point operations of one training step, counted from the shapes.</summary>
    public long FlopsPerStep => Model.TrainingStepFlops(_batch, Task.PromptLength, Task.ReadPositions.Length);

    /// <summary>Runs one step of the recipe (for lbfgs and gauss_newton after the warm start: one outer iteration).</summary>
    public StepResult TrainStep()
    {
        var t = Config.Training;
        if (_second is not null && Step >= _second.WarmupSteps) return SecondOrderStep();
        _batch = _sgdBatch; _fixedBatchLoaded = false;
        UseSize(Curriculum.SizeAt(Step));
        if (Scheduler is AdaptiveThresholdScheduler adaptive && Step % t.SchedulerMetricEvery == 0)
        {
            // As the authors: measured before the step, at the current parameters and size, on the task loss alone.
            long m0 = StepProfiler.Start();
            LastGradientCosine = MeasureGradientCosine();
            adaptive.UpdateMetric(LastGradientCosine, Step);
            StepProfiler.Stop("scheduler.gradient_cosine", m0);
        }
        double lr = Scheduler.LearningRate(Step);
        long t0 = StepProfiler.Start();
        _stepSeed = DataRng.NextUInt64();      // one draw per step from the checkpointed stream
        double loss = _groups.ForwardBackward(_prompt, _batch, Task.PromptLength, Task.ReadPositions, _output, _dOutput, _groupLoss, _groupSample);
        var store = Model.Store;
        StepProfiler.Stop("model.forward+backward(total)", t0); t0 = StepProfiler.Start();
        if (t.L1Reg != 0) loss += L1Penalty.AddTo(store, t.L1Reg);    // as the authors: in the loss, so before clipping
        double norm = GradientClipping.GlobalNorm(store);
        Step++;
        if (!double.IsFinite(norm) || !double.IsFinite(loss))
        {
            Scheduler.StepCompleted(Step);
            SkippedSteps++; ConsecutiveSkips++;
            if (ConsecutiveSkips >= MaxConsecutiveSkips)
                throw new TrainingDivergedException(Step, $"{ConsecutiveSkips} steps in a row had a non-finite loss or gradient norm (loss {loss}, norm {norm})");
            return new StepResult(Step, loss, lr, norm, Skipped: true);
        }
        ConsecutiveSkips = 0;
        GradientClipping.Clip(store, norm, t.ClipGradNorm);
        Filter.Apply();
        Optimizer.Step(lr);
        // Proximal: whole channels reach exactly zero. Not before the step schedule's decay starts (decay_start_loss):
        // on the plateau every channel is weak, and the penalty would prune the ones the solution needs.
        if (GroupLasso is not null && Scheduler is not StepThresholdScheduler { DecayStart: < 0 }) GroupLasso.Shrink(store.Values, lr * t.GroupLasso);
        Scheduler.StepCompleted(Step);
        if (Scheduler is StepThresholdScheduler stepSchedule) stepSchedule.ObserveLoss(loss, Step);
        StepProfiler.Stop("optimizer(clip+ema+adam)", t0);
        return new StepResult(Step, loss, lr, norm, Skipped: false);
    }

    /// <summary>
    /// The adaptive scheduler's metric at the current parameters: <see cref="GradientCosine.Batches"/> gradients of
    /// the task loss on fresh minibatches of the training batch size, each from stream (metric seed, step, k), and
    /// the mean cosine similarity of consecutive pairs. Leaves the last minibatch's gradient in the store (the
    /// step's own forward/backward overwrites it).
    /// </summary>
    public double MeasureGradientCosine()
    {
        var grads = Model.Store.Grads;
        _metricPrev ??= new T[grads.Length];
        ulong stepStream = Rng.StreamSeed(_metricSeed, (ulong)Step);
        double sum = 0;
        for (int k = 0; k < GradientCosine.Batches; k++)
        {
            _stepSeed = Rng.StreamSeed(stepStream, (ulong)k);
            _groups.ForwardBackward(_prompt, _batch, Task.PromptLength, Task.ReadPositions, _output, _dOutput, _groupLoss, _groupSample);
            if (k > 0) sum += GradientCosine.Cosine<T>(_metricPrev, grads, _trainable);
            grads.AsSpan().CopyTo(_metricPrev);
        }
        return sum / (GradientCosine.Batches - 1);
    }

    // Sets the master task (whose size the workers copy) and the per-example sizes for this step.
    private void UseSize((int Points, int Dims) size)
    {
        if (Task.Points != size.Points || Task.Dims != size.Dims) Task.SetSize(size.Points, size.Dims);
        _promptSize = Task.PromptLength * Task.TokenDims;
        _targetSize = Task.TargetSize;                      // also computes the read positions before the threads read them
        _outSize = Task.ReadPositions.Length * Model.OutDims;
    }

    /// <summary>mse, rel and rel_l2 on the fixed held-out batch at full size (in chunks of the training batch size).</summary>
    public TaskMetrics Evaluate()
    {
        UseSize(Curriculum.Full);
        int total = Config.Training.EvalBatchSize, reads = Task.ReadPositions.Length;
        int promptSize = Task.PromptLength * Task.TokenDims, outSize = reads * Model.OutDims;
        // Its own chunk buffers: the training buffers may hold a second-order batch that must survive evaluation.
        int chunk = Math.Min(_sgdBatch, total);
        var chunkPrompt = _chunkPrompt ??= new T[(long)chunk * promptSize];
        var chunkOutput = _chunkOutput ??= new T[(long)chunk * outSize];
        for (int start = 0; start < total; start += chunk)
        {
            int n = Math.Min(chunk, total - start);
            _evalPrompt.AsSpan(start * promptSize, n * promptSize).CopyTo(chunkPrompt);
            _groups.Forward(chunkPrompt, n, Task.PromptLength, Task.ReadPositions, chunkOutput);
            chunkOutput.AsSpan(0, n * outSize).CopyTo(_evalOutput.AsSpan(start * outSize));
        }
        var m = Task.Evaluate(_evalOutput, _evalTarget, total);
        if (!double.IsFinite(m.Mse)) throw new TrainingDivergedException(Step, $"held-out mse is {m.Mse}");
        return m;
    }

    /// <summary>
    /// One outer iteration of lbfgs or gauss_newton on the fixed batch: every training.refresh_every iterations a new
    /// batch of training.second_order_batch_size examples is drawn (one seed from the data stream; group g draws from
    /// stream (seed, g) as in a first-order step), so the model fits the task, not one batch; L-BFGS keeps its
    /// curvature pairs across batches. The row's lr column holds the accepted step length α (lbfgs) or the damping λ
    /// used (gauss_newton); grad_norm is ‖∇loss‖ on the batch where the iteration started. No clipping or EMA filter.
    /// </summary>
    private StepResult SecondOrderStep()
    {
        var so = _second!;
        var store = Model.Store;
        var size = Curriculum.SizeAt(Step);
        if (Task.Points != size.Points || Task.Dims != size.Dims) _fixedBatchLoaded = false;
        UseSize(size);
        _batch = so.BatchSize;
        if (so.BatchIterations == 0 || so.BatchIterations >= so.RefreshEvery)
        {
            so.BatchSeed = DataRng.NextUInt64();
            so.BatchIterations = 0;
            _fixedBatchLoaded = false;
        }
        if (!_fixedBatchLoaded)
        {
            long s0 = StepProfiler.Start();
            _stepSeed = so.BatchSeed;
            _groups.PrepareOnly(_batch, _groupSample);
            _fixedBatchLoaded = true;
            so.Lbfgs?.Restart(keepHistory: true);     // a new objective: f and ∇f at X are evaluated on it
            StepProfiler.Stop("task.sample", s0);
        }
        Step++;
        double loss, lr, norm;
        bool ok;
        if (so.Lbfgs is { } lbfgs)
        {
            if (!lbfgs.HasPoint) store.Values.AsSpan().CopyTo(lbfgs.X);
            var it = lbfgs.Iterate(_objective!);
            (loss, lr, norm, ok) = (it.Value, it.StepLength, it.GradNorm, double.IsFinite(it.Value) && double.IsFinite(it.GradNorm));
            lbfgs.X.AsSpan().CopyTo(store.Values);
            if (!ok) lbfgs.Restart(keepHistory: false);
        }
        else
        {
            var gn = so.GaussNewton!;
            store.Values.AsSpan().CopyTo(gn.X);
            var it = gn.Iterate(_objective!, (ulong)so.Iterations);
            (loss, lr, norm, ok) = (it.Value, it.Damping, it.GradNorm, double.IsFinite(it.Value) && double.IsFinite(it.GradNorm));
            gn.X.AsSpan().CopyTo(store.Values);
        }
        so.BatchIterations++;
        so.Iterations++;
        Scheduler.StepCompleted(Step);
        if (!ok)
        {
            // The point itself is bad (the line search and the damping never accept a non-finite value): skip, and stop
            // as diverged after MaxConsecutiveSkips, as a first-order run would.
            SkippedSteps++; ConsecutiveSkips++;
            so.BatchIterations = 0;       // and try another batch
            if (ConsecutiveSkips >= MaxConsecutiveSkips)
                throw new TrainingDivergedException(Step, $"{ConsecutiveSkips} {so.Name} iterations in a row had a non-finite loss or gradient (loss {loss}, norm {norm})");
            return new StepResult(Step, loss, lr, norm, Skipped: true);
        }
        ConsecutiveSkips = 0;
        return new StepResult(Step, loss, lr, norm, Skipped: false);
    }

    /// <summary>
    /// The task loss on the fixed batch in the buffers, as a least-squares objective of the flat parameter vector:
    /// loss = mean(e²) over the N read values = ½‖r‖² with r = √(2/N) e, so ∇loss = Jᵀr. Frozen parameters get a zero
    /// gradient, so no step moves them.
    /// </summary>
    private sealed class ModelObjective(Trainer<T> trainer) : ILeastSquaresObjective<T>
    {
        private readonly (int Offset, int Length)[] _frozen = trainer.Model.Store.Parameters.Where(p => !p.Trainable).Select(p => (p.Offset, p.Length)).ToArray();

        public int Dimension => trainer.Model.Store.Size;

        private void Load(ReadOnlySpan<T> x)
        {
            var values = trainer.Model.Store.Values;
            if (!x.Overlaps(values)) x.CopyTo(values);
        }

        public double Evaluate(ReadOnlySpan<T> x, Span<T> gradient)
        {
            Load(x);
            var tr = trainer;
            double loss = tr._groups.ForwardBackward(tr._prompt, tr._batch, tr.Task.PromptLength, tr.Task.ReadPositions, tr._output, tr._dOutput, tr._groupLoss);
            tr.Model.Store.Grads.AsSpan().CopyTo(gradient);
            foreach (var (o, n) in _frozen) gradient.Slice(o, n).Clear();
            return loss;
        }

        public double Value(ReadOnlySpan<T> x)
        {
            Load(x);
            var tr = trainer;
            tr._groups.Forward(tr._prompt, tr._batch, tr.Task.PromptLength, tr.Task.ReadPositions, tr._output);
            int n = tr._batch;
            return tr.Task.Loss(tr._output.AsSpan(0, n * tr._outSize), tr._target.AsSpan(0, n * tr._targetSize), n, tr._dOutput.AsSpan(0, n * tr._outSize));
        }

        private ModelJacobian<T>? _jacobian;
        private T[] _jv = [];

        public double Linearize(ReadOnlySpan<T> x, Span<T> gradient)
        {
            double loss = Evaluate(x, gradient);
            var tr = trainer;
            _jacobian ??= new ModelJacobian<T>(tr.Model);
            int n = tr._batch;
            _jacobian.SetBatch(tr._prompt.AsSpan(0, n * tr._promptSize), n, tr.Task.PromptLength, tr.Task.ReadPositions);
            return loss;
        }

        /// <summary>
        /// JᵀJ v at the linearisation point (the master's parameters), exact: one forward, one tangent (forward-mode
        /// JVP) and one backward pass per example (<see cref="ModelJacobian{T}"/>). With loss = ½‖r‖², r = √(2/N) e over
        /// the read window, JᵀJ = (2/N) J_eᵀ J_e; outputs outside the window (tasks reading fewer channels than out_dims)
        /// are masked between the tangent and the backward pass.
        /// </summary>
        public void GaussNewtonProduct(ReadOnlySpan<T> v, Span<T> result)
        {
            var jac = _jacobian ?? throw new InvalidOperationException("Linearize first");
            if (WholeOutput) jac.GaussNewton(v, result);
            else
            {
                if (_jv.Length != jac.OutputCount) _jv = new T[jac.OutputCount];
                jac.JacobianVector(v, _jv);
                for (int i = 0; i < _jv.Length; i++) if (!InWindow(i)) _jv[i] = T.Zero;
                jac.JacobianTransposeVector(_jv, result);
            }
            Vec.Scale<T>(2.0 / ReadValues, result, result);
        }

        public int ResidualCount => (_jacobian ?? throw new InvalidOperationException("Linearize first")).OutputCount;

        // N, the read values of the batch: loss = mean(e²) = ½‖r‖² with r = √(2/N) e.
        private double ReadValues => (double)trainer._batch * trainer.Task.ReadPositions.Length * trainer.Task.ReadChannelCount;
        private double ResidualScale => Math.Sqrt(2.0 / ReadValues);

        // Whether output i (layout [batch, reads, out_dims]) is in the task's read window, i.e. a residual.
        private bool InWindow(int i)
        {
            int c = i % trainer.Model.OutDims - trainer.Task.ReadChannelStart;
            return c >= 0 && c < trainer.Task.ReadChannelCount;
        }

        private bool WholeOutput => trainer.Task.ReadChannelStart == 0 && trainer.Task.ReadChannelCount == trainer.Model.OutDims;

        /// <summary>r = √(2/N) (y - t) at the linearisation point, in the output layout; 0 outside the read window.</summary>
        public void LinearizedResiduals(Span<T> residuals)
        {
            var tr = trainer;
            int o = tr.Model.OutDims, c0 = tr.Task.ReadChannelStart, cc = tr.Task.ReadChannelCount;
            T scale = T.CreateChecked(ResidualScale);
            for (int i = 0; i < ResidualCount; i++)
                residuals[i] = InWindow(i) ? scale * (tr._output[i] - tr._target[i / o * cc + i % o - c0]) : T.Zero;
        }

        /// <summary>J = √(2/N) ∂y/∂θ, one row per output (<see cref="ModelJacobian{T}.JacobianRows"/>); rows outside the
        /// read window are zero (they are not residuals).</summary>
        public void LinearizedJacobian(T[] rows)
        {
            var jac = _jacobian ?? throw new InvalidOperationException("Linearize first");
            jac.JacobianRows(rows);
            int p = Dimension;
            for (int i = 0; i < jac.OutputCount; i++)
            {
                var row = rows.AsSpan((int)((long)i * p), p);
                if (InWindow(i)) Vec.Scale<T>(ResidualScale, row, row);
                else row.Clear();
            }
        }

        /// <summary>Jᵀu with J = √(2/N) J_e (as <see cref="GaussNewtonProduct"/>); outputs outside the read window are
        /// not residuals, so u is masked there.</summary>
        public void JacobianTransposeProduct(ReadOnlySpan<T> u, Span<T> result)
        {
            var jac = _jacobian ?? throw new InvalidOperationException("Linearize first");
            if (WholeOutput) jac.JacobianTransposeVector(u, result);
            else
            {
                if (_jv.Length != jac.OutputCount) _jv = new T[jac.OutputCount];
                for (int i = 0; i < _jv.Length; i++) _jv[i] = InWindow(i) ? u[i] : T.Zero;
                jac.JacobianTransposeVector(_jv, result);
            }
            Vec.Scale<T>(ResidualScale, result, result);
        }
    }
}
