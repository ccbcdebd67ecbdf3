try:
    import ipywidgets as widgets
except ImportError:  # without ipywidgets every explorer shows the figure of its default settings
    widgets = None


def show_figure(figure, alt):
    """Show a matplotlib figure as a PNG with alternative text (what it shows, in a sentence or two: what a screen
    reader reads, and what the notebook rendered on a web page carries in the image's alt attribute), then close it."""
    from IPython.display import display  # here: the notebook's own setup cell may import it too

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    bundle = {"image/png": base64.b64encode(buffer.getvalue()).decode(), "text/plain": f"<figure: {alt}>"}
    display(bundle, raw=True, metadata={"image/png": {"alt": alt}})


def message_figure(text, size=(8, 1.6)):
    """A figure that only says something (what went wrong, what to do first)."""
    figure = plt.figure(figsize=size)
    figure.text(0.02, 0.5, text, va="center", wrap=True, color="tab:red")
    return figure


def slider(description, value, low, high, step, integer=False):
    """A slider that redraws when released (and at each arrow key), wide enough for its label."""
    kind = widgets.IntSlider if integer else widgets.FloatSlider
    return kind(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
        layout=widgets.Layout(width="310px"),
    )


class Explorer:
    """A figure with controls: draw(**values) returns a matplotlib Figure (or a Figure and a caption), drawn again
    whenever a control moves.

    controls: {name: (ipywidget or None, default value)}. In JupyterLab, Colab or VS Code the controls are live and
    the caption is shown under the figure. Without a live kernel (a headless run, the notebook on a web page) the
    same output shows the figure of the default values as a plain image. An error in the code it runs is drawn as
    a message.
    """

    def __init__(self, draw, controls, alt=""):
        """alt: the alternative text of the figure of the default values (what it shows)."""
        self.draw, self.controls, self.alt = draw, controls, alt
        self.png, self.caption = self.render({name: default for name, (_, default) in controls.items()})

    def render(self, values):
        """(PNG bytes, caption) of the figure for these control values."""
        try:
            drawn = self.draw(**values)
        except NotImplementedError:
            message = "Your code is not written yet (NotImplementedError): fill in the answer above, run it, then move a control."
            drawn = message_figure(message), message
        except Exception as error:
            message = f"Your code raised {type(error).__name__}: {error}"[:300]
            drawn = message_figure(message), message
        figure, caption = drawn if isinstance(drawn, tuple) else (drawn, "")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        return buffer.getvalue(), caption

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = "<explorer: run the notebook to move its controls>" + (f" {self.caption}" if self.caption else "")
        bundle = {"image/png": base64.b64encode(self.png).decode(), "text/plain": text}
        live = {name: widget for name, (widget, _) in self.controls.items() if widget is not None}
        metadata = {"image/png": {"alt": self.alt}} if self.alt else {}
        if widgets is None or not live:
            return bundle, metadata
        image, caption = widgets.Image(value=self.png, format="png"), widgets.HTML(self.caption)

        def redraw(change):
            image.value, caption.value = self.render({name: widget.value for name, widget in live.items()})

        for widget in live.values():
            widget.observe(redraw, names="value")
        controls = widgets.HBox(list(live.values()), layout=widgets.Layout(flex_flow="row wrap"))
        bundle.update(widgets.VBox([controls, image, caption])._repr_mimebundle_())  # the live view, which a frontend with widgets prefers
        bundle["text/plain"] = text
        return bundle, metadata


def control(widget_factory, default):
    """(widget, default) for Explorer, the widget set to the default the figure starts from; None without ipywidgets."""
    widget = widget_factory() if widgets is not None else None
    if widget is not None:
        widget.value = default  # a dropdown would otherwise show its first option beside the default's figure
    return widget, default
