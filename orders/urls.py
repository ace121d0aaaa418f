from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_update, name="cart_update"),
    path("cart/accept-prices/", views.cart_accept_prices, name="cart_accept_prices"),
    path("checkout/", views.checkout, name="checkout"),
    path("account/orders/", views.order_history, name="history"),
    path("account/orders/guest-orders/", views.attach_guest_orders, name="attach_guest_orders"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/paid/", views.payment_return, name="paid"),
    path("orders/<str:number>/payment-cancelled/", views.payment_cancelled, name="payment_cancelled"),
    path("orders/webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
]
