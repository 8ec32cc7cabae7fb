using PeftSharp.Modules;
using static TorchSharp.torch;

namespace PeftSharp.Tuners.Adapters;

/// <summary>Finding a model's <see cref="AdapterSite"/>s and the handlers attached to them.</summary>
internal static class AdapterSites
{
    /// <summary>Every site of <paramref name="model"/> with its path, in module order.</summary>
    public static List<(string Path, AdapterSite Site)> All(nn.Module model) =>
        model.named_modules().Where(m => m.module is AdapterSite).Select(m => (m.name, (AdapterSite)m.module)).ToList();

    /// <summary>The handler attached to <paramref name="site"/> under <paramref name="name"/>, attaching a new one when there is none.</summary>
    /// <exception cref="InvalidOperationException">Something else is attached under that name.</exception>
    public static T Handler<T>(AdapterSite site, string name, Func<T> create) where T : nn.Module<Tensor, Tensor, Tensor>
    {
        switch (site.Handler(name))
        {
            case T existing:
                return existing;
            case { } other:
                throw new InvalidOperationException($"the {site.Kind} site already has a '{name}' handler of type {other.GetType().Name}");
            default:
                var handler = create();
                handler.train(site.training);
                site.Attach(name, handler);
                return handler;
        }
    }
}
