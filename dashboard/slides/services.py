"""便民服务: a QR code per service (订家宴, 问律师, 找工作 …) that opens its page for this village on a phone."""

from dash import html

from dashboard.privacy import scrub
from dashboard.services import load_services, qr_data_uri
from dashboard.slides import Slide


def render(context):
    """The configured services (as many as the board holds) as scannable codes with their names."""
    village = context.village.code
    # A board holds twelve codes upright, ten across; a county that configures more shows its first ones.
    shown = load_services(context.settings.services_file)[: context.holds(portrait=12, landscape=10)]
    return [
        html.Div(
            className=f"qr-grid qr-{len(shown)}",
            children=[
                html.Figure(
                    className="qr",
                    children=[
                        html.Img(
                            src=qr_data_uri(service.url_for(village)),
                            alt=scrub(service.label),
                            **{"data-url": service.url_for(village)},
                        ),
                        html.Figcaption(scrub(service.label)),
                    ],
                )
                for service in shown
            ],
        ),
        html.Div("手机扫码，办事不出村", className="slide-note"),
    ]


SLIDE = Slide("services", "便民服务", (), render)
