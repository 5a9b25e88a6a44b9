namespace PrecisionLS.Tasks;

/// <summary>What a task is, for listings and for building a small example config (`tasks show`).</summary>
/// <param name="Name">Config name (training.task).</param>
/// <param name="Data">The data sampler it draws from (training.data).</param>
/// <param name="Summary">One line: prompt and target.</param>
/// <param name="Kwargs">training.task_kwargs it accepts.</param>
/// <param name="OutDims">The out_dims the authors use for n_dims = D.</param>
/// <param name="SmallDims">n_dims of a readable example.</param>
public sealed record TaskInfo(string Name, string Data, string Summary, string[] Kwargs, Func<int, int> OutDims, int SmallDims = 3)
{
    /// <summary>Every task of the paper (REFERENCE §1), in the order of the tasks table.</summary>
    public static readonly IReadOnlyList<TaskInfo> All =
    [
        new("identity", "gaussian", "y = x at every position", [], d => d),
        new("square", "gaussian", "y = x² at every position", [], d => d),
        new("elementwise_multiply", "gaussian", "y = x[:, :, :D/2] · x[:, :, D/2:] at every position", [], d => d / 2, SmallDims: 4),
        new("read", "gaussian", "y = x except token j copies token i (i <= j drawn once per run)", ["seed"], d => d),
        new("linear", "gaussian", "y = x·c at every position, c = 3 N(0, I) drawn once per run", ["seed", "sparsity"], _ => 1),
        new("least_squares", "least_squares", "tokens [a_i, b_i]; target x* at the last position", [], d => d),
        new("least_squares_icl", "least_squares", "2L-1 tokens [a_i, 0], [0, b_i]; target b_i at the even positions, last channel", ["setting"], _ => 1),
        new("explicit_gradient", "least_squares", "tokens [x_init, 0], [a_i, b_i]; target g = (1/L) Aᵀ(A x_init - b) at the last position", ["setting"], d => d),
        new("multistep_gd", "least_squares", "tokens [a_i, b_i], [x_init, 0]; target x_k after k gradient steps at the last position", ["num_iters", "step_size"], d => d),
        new("ode_icl", "ode_operator", "2L-1 tokens [c, u0, 1, 0], [0.., u]: u of ODE solutions at a query point, in context", ["noise_variance", "seed"], _ => 1),
        new("ode_icl_final", "ode_operator", "L tokens [c, u0, 1, u] with the last u hidden; target that u", ["noise_variance", "seed"], _ => 1),
    ];

    /// <summary>The entry for a config name (the authors' ode_operator_icl[_final] names included).</summary>
    public static TaskInfo? Find(string name) => All.FirstOrDefault(t => t.Name == Canonical(name));

    /// <summary>Maps the authors' alternative names onto ours.</summary>
    public static string Canonical(string name) => name switch
    {
        "ode_operator_icl" => "ode_icl",
        "ode_operator_icl_final" => "ode_icl_final",
        _ => name,
    };
}
